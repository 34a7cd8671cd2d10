import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="10 · Questionnaire: the chapter in 37 questions",
    html_head_file="__marimo__/first_screen/10_questionnaire.html",
)

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import dis

    import altair as alt
    import marimo as mo
    import pandas as pd
    import torch

    from digitcore import answers, plots

    # The chapter's questionnaire, in order. Each question: its number, our wording of it, where the course answers
    # it (lesson file stem, heading of the section), a model answer to compare with, and for the questions that
    # are code, the name of the function below that the page checks.
    QUESTIONS = [
        dict(n=1, q="How does a computer store a greyscale image? And a colour one?",
             where=[("01_pixels_and_tensors", "One digit, two ways"), ("01_pixels_and_tensors", "Rank and shape")],
             answer="A greyscale image is a grid of numbers, one per pixel: how much ink (or light) there is, "
                    "0 to 255 in MNIST's PNGs. In PyTorch it is a rank-2 tensor, `(28, 28)` for a digit. A colour "
                    "image has three such grids, red, green and blue: a rank-3 tensor, `(3, height, width)` in "
                    "PyTorch's order (PIL and NumPy load it as `(height, width, 3)`)."),
        dict(n=2, q="How are the files and folders of the MNIST_SAMPLE data set laid out, and why?",
             where=[("01_pixels_and_tensors", "The data on disk")],
             answer="`train/` and `valid/`, each with a folder `3/` and a folder `7/` of PNG files (and a "
                    "`labels.csv`). The folder name *is* the label. Training and validation images are kept apart "
                    "so that the model can be measured on digits it never saw while training."),
        dict(n=3, q="How does the \"pixel similarity\" approach classify a digit?",
             where=[("02_pixel_similarity", "02 · Pixel similarity: a baseline with no learning at all"),
                    ("02_pixel_similarity", "Every validation digit at once")],
             answer="Average all training 3s pixel by pixel into an \"ideal\" 3, and likewise an ideal 7. A new "
                    "digit is called a 3 if it is closer to the ideal 3 than to the ideal 7, where the distance is "
                    "the mean absolute (or root mean squared) difference of the pixels. Nothing is learned: it is a "
                    "baseline (0.9511 accuracy on MNIST_SAMPLE's validation set) that a trained model must beat."),
        dict(n=4, q="What is a list comprehension? Write one that keeps the odd numbers of a list and doubles them.",
             where=[("01_pixels_and_tensors", "Lists of images: list comprehensions")], code="odd_doubled",
             answer="A short way to build a list from another collection: `[f(x) for x in items if cond(x)]` "
                    "applies `f` to every item that passes the (optional) condition. Here: "
                    "`[2 * x for x in nums if x % 2 == 1]`."),
        dict(n=5, q="What is a rank-3 tensor?",
             where=[("01_pixels_and_tensors", "Stacking images into one tensor")],
             answer="A tensor with three axes, so three indices pick one number: for example a stack of greyscale "
                    "images, `(image, row, column)`. The 6,131 training 3s of MNIST_SAMPLE stacked together are a "
                    "rank-3 tensor of shape `(6131, 28, 28)`."),
        dict(n=6, q="What is the difference between a tensor's rank and its shape? How do you get the rank from the "
                    "shape?",
             where=[("01_pixels_and_tensors", "Rank and shape")], code="rank_of",
             answer="The shape lists the length of every axis, `(6131, 28, 28)`; the rank is how many axes there "
                    "are, 3. So the rank is the length of the shape: `len(t.shape)`, also `t.ndim`."),
        dict(n=7, q="What are the RMSE and the L1 norm?",
             where=[("02_pixel_similarity", "Two ways to measure a distance")], code="l1_and_rmse",
             answer="Two ways to measure how far apart two tensors are. L1 norm (mean absolute difference): "
                    "`(a - b).abs().mean()`, also `F.l1_loss`. RMSE, root mean squared error: square the "
                    "differences, take the mean, then the square root, `((a - b) ** 2).mean().sqrt()`, also "
                    "`F.mse_loss(a, b).sqrt()`. Compared with L1, RMSE gives big differences more weight relative "
                    "to small ones."),
        dict(n=8, q="How can you compute on thousands of numbers at once, thousands of times faster than a Python "
                    "loop?",
             where=[("02_pixel_similarity", "Every validation digit at once"), ("03_broadcasting", "The rules")],
             answer="Write the computation on whole tensors, not on single numbers: `(a - b).abs().mean((-1, -2))` "
                    "is one call that runs compiled C (or GPU) code over every element, with broadcasting to "
                    "match shapes. A Python loop pays the interpreter's overhead for every single number."),
        dict(n=9, q="Make a 3×3 tensor (or array) holding the numbers 1 to 9. Double it. Take its bottom-right four "
                    "numbers.",
             where=[("01_pixels_and_tensors", "Tensors you type: indexing and arithmetic")], code="double_and_corner",
             answer="`t = torch.arange(1, 10).view(3, 3)` (or `torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])`), "
                    "then `(t * 2)[1:, 1:]`, which is `tensor([[10, 12], [16, 18]])`."),
        dict(n=10, q="What is broadcasting?",
             where=[("03_broadcasting", "The rules"), ("03_broadcasting", "The silent bug: `(n, 1)` minus `(n,)`")],
             answer="PyTorch's rule for operating on tensors of different shapes: the shapes are lined up from "
                    "the right, and an axis that is missing or has length 1 acts as if it were repeated to match "
                    "the other (without copying any memory). `(1010, 28, 28) - (28, 28)` subtracts the ideal 3 "
                    "from every validation image."),
        dict(n=11, q="Are metrics usually computed on the training set or the validation set? Why?",
             where=[("01_pixels_and_tensors", "The data on disk"),
                    ("05_sgd", "6 · Measuring: `validate_epoch`, and why on the validation set")],
             answer="On the validation set. A model can do well on the very images it trained on, even by "
                    "memorising them (overfitting); only images it never trained on tell how it will do on new "
                    "data."),
        dict(n=12, q="What is SGD?",
             where=[("05_sgd", "05 · Stochastic gradient descent: teaching a model to tell 3s from 7s")],
             answer="Stochastic gradient descent: improve the weights step by step, each step moving them against "
                    "the gradient of the loss, where the gradient is computed on a small random batch of the data "
                    "(a mini-batch) rather than on all of it."),
        dict(n=13, q="Why does SGD use mini-batches?",
             where=[("05_sgd", "4 · Mini-batches and the `DataLoader`"), ("06_batch_size", "1 · Steps and time"),
                    ("06_batch_size", "2 · Gradient noise")],
             answer="The whole data set per step gives one update per epoch, which is slow; one item per step gives "
                    "a very noisy gradient and leaves the hardware's parallelism idle. A mini-batch gives many "
                    "updates per epoch with a gradient accurate enough (its noise falls as 1/√batch size), and its "
                    "items are computed in parallel."),
        dict(n=14, q="What are the seven steps of SGD for machine learning?",
             where=[("04_gradients_and_steps", "04 · Gradients and the seven steps"),
                    ("04_gradients_and_steps", "An end-to-end example: a roller coaster's speed")],
             answer="1. initialise the weights; 2. predict; 3. compute the loss; 4. compute the gradients; "
                    "5. step: change each weight by the learning rate times its gradient; 6. repeat from 2; "
                    "7. stop (after enough epochs, or when the model is good enough, or time runs out)."),
        dict(n=15, q="How do we initialise a model's weights?",
             where=[("05_sgd", "6 · Measuring: `validate_epoch`, and why on the validation set")],
             answer="With random numbers: the book's `init_params` draws them from a normal distribution "
                    "(`torch.randn(size) * std`); `nn.Linear` draws them uniformly between ±1/√(inputs). Random "
                    "(not all equal) values let the units start different. Their scale matters: too large and the "
                    "sigmoid saturates from the start. (Later in the book: weights of a pretrained model.)"),
        dict(n=16, q="What is the \"loss\"?",
             where=[("05_sgd", "3 · A loss for 3 vs 7: `mnist_loss`")],
             answer="A number that says how bad the model's predictions are, computed so that it changes smoothly "
                    "when the weights change a little. Training (SGD) changes the weights to make it smaller."),
        dict(n=17, q="Why can't we always use a high learning rate?",
             where=[("04_gradients_and_steps", "Train it"), ("05_sgd", "8 · The training lab: every learning rate at once")],
             answer="The step is learning rate × gradient. Too large a step jumps past the low point: the loss "
                    "bounces around or grows without limit (the model diverges). With a sigmoid it can also push "
                    "every output far into the flat ends, where the gradients vanish and training stalls."),
        dict(n=18, q="What is a \"gradient\"?",
             where=[("04_gradients_and_steps", "A gradient is a slope")],
             answer="The derivatives of the loss with respect to each weight: for every weight, how much the loss "
                    "changes when that weight changes a tiny bit (the slope). Its sign says which way to move the "
                    "weight, its size how steep the loss is there."),
        dict(n=19, q="Do you have to know how to compute gradients yourself?",
             where=[("04_gradients_and_steps", "A gradient is a slope")],
             answer="No. PyTorch computes them for you: mark a tensor with `requires_grad_()`, compute the loss "
                    "from it, call `loss.backward()`, and read `.grad`. What you need is to understand what a "
                    "gradient means."),
        dict(n=20, q="Why can't we use accuracy as a loss function?",
             where=[("05_sgd", "1 · Why accuracy cannot be the loss")],
             answer="Accuracy changes only when a prediction crosses the threshold from 3 to 7. A small change of "
                    "a weight almost never does that, so accuracy's gradient is zero almost everywhere (and "
                    "undefined at the jumps): there is no slope for SGD to follow."),
        dict(n=21, q="Draw the sigmoid function. What is special about its shape?",
             where=[("05_sgd", "2 · The sigmoid: any number in, a number between 0 and 1 out")],
             answer="`sigmoid(x) = 1 / (1 + exp(-x))`: an S-shaped curve. Any number goes in, a number strictly "
                    "between 0 and 1 comes out; it always rises, smoothly, steepest at 0 (slope 1/4) and flat at "
                    "both ends. That makes any activation usable as a probability with a useful gradient.",
             chart="sigmoid"),
        dict(n=22, q="What is the difference between a loss function and a metric?",
             where=[("05_sgd", "1 · Why accuracy cannot be the loss")],
             answer="The metric is for people: what we care about, such as accuracy, read on the validation set. "
                    "The loss is for the optimiser: it must change smoothly with the weights so that its gradient "
                    "is useful. The loss drives training; the metric reports how it went."),
        dict(n=23, q="What is the function that computes new weights from a learning rate?",
             where=[("04_gradients_and_steps", "Stepping downhill"),
                    ("05_sgd", "7 · Training by hand, then an optimizer, then a `Learner`")],
             answer="The optimiser's step: new weight = weight − learning rate × gradient, for every weight: "
                    "`p.data -= lr * p.grad.data` (then clear the gradient). An optimiser such as the book's "
                    "`BasicOptim` or PyTorch's `SGD` does it in `opt.step()`."),
        dict(n=24, q="What does the `DataLoader` class do?",
             where=[("05_sgd", "4 · Mini-batches and the `DataLoader`")],
             answer="It takes a data set (any collection of `(x, y)` items with a length) and serves it as "
                    "mini-batches: it cuts it into batches of `batch_size` items, optionally shuffled anew every "
                    "epoch, and stacks each batch's items into tensors."),
        dict(n=25, q="Write pseudocode for what SGD does in each epoch.",
             where=[("05_sgd", "5 · One epoch of SGD: `train_epoch`")],
             answer="```\nfor xb, yb in train_dl:          # one mini-batch at a time\n"
                    "    preds = model(xb)              # predict\n"
                    "    loss = loss_func(preds, yb)    # how bad?\n"
                    "    loss.backward()                # gradients into p.grad\n"
                    "    for p in params:\n"
                    "        p.data -= lr * p.grad.data # step\n"
                    "        p.grad = None              # clear for the next batch\n```"),
        dict(n=26, q="Write a function that, given `[1, 2, 3, 4]` and `'abcd'`, returns "
                     "`[(1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')]`. What is special about that kind of output?",
             where=[("03_broadcasting", "`zip`, and why a list of pairs is a Dataset"),
                    ("05_sgd", "4 · Mini-batches and the `DataLoader`")], code="pair_up",
             answer="`list(zip(a, b))`. A list of `(x, y)` tuples is exactly what PyTorch calls a *Dataset*: it has "
                    "a length, and indexing it gives one input together with its label, which is what a "
                    "`DataLoader` needs."),
        dict(n=27, q="What does `view` do in PyTorch?",
             where=[("01_pixels_and_tensors", "`view`: the same numbers, a different shape")],
             answer="It gives the same numbers a different shape, without copying or changing them: "
                    "`stacked.view(-1, 28 * 28)` turns `(n, 28, 28)` images into `(n, 784)` rows; `-1` means "
                    "\"whatever length makes the total fit\"."),
        dict(n=28, q="What are the \"bias\" parameters of a neural network? Why do we need them?",
             where=[("08_bias_and_going_deeper", "1 · Zero in, zero out")],
             answer="A bias is a number added after the weighted sum, one per output: `x @ w + b`. Without it an "
                    "all-zero input always gives an output of 0 whatever the weights (zero in, zero out), and "
                    "scaling the input scales the output. The bias lets each unit shift its output, and move a "
                    "ReLU's bend, independently of the input."),
        dict(n=29, q="What does the `@` operator do in Python?",
             where=[("03_broadcasting", "Matrix multiplication: `@`"),
                    ("03_broadcasting", "The linear model is one `@`")], code="matmul",
             answer="Matrix multiplication (for tensors and NumPy arrays): entry `(i, j)` of `a @ b` is row `i` of "
                    "`a` times column `j` of `b`, multiplied element by element and summed. `xb @ weights` "
                    "computes the weighted sum of every digit in a batch at once."),
        dict(n=30, q="What does the `backward` method do?",
             where=[("04_gradients_and_steps", "A gradient is a slope"),
                    ("07_nonlinearity", "3 · Forward and backward: the chain rule")],
             answer="`loss.backward()` goes backwards through the computation that produced `loss`, applying the "
                    "chain rule (the backward pass), and *adds* the gradient of `loss` into the `.grad` of every "
                    "**leaf** tensor it was computed from that has `requires_grad`: the tensors you created, "
                    "such as the parameters. Intermediate results (activations, predictions) pass gradients "
                    "along but keep no `.grad` unless you call `.retain_grad()` on them first."),
        dict(n=31, q="Why do we have to zero the gradients?",
             where=[("04_gradients_and_steps", "Stepping downhill"), ("05_sgd", "5 · One epoch of SGD: `train_epoch`")],
             answer="Because `backward` adds into `.grad` instead of replacing it. Without clearing, each step "
                    "would use the sum of this batch's gradient and every earlier one."),
        dict(n=32, q="What do we have to give the `Learner`?",
             where=[("05_sgd", "7 · Training by hand, then an optimizer, then a `Learner`"),
                    ("07_nonlinearity", "The book's path, walked: `simple_net` as the chapter trains it")],
             answer="The `DataLoaders` (training and validation), the model, the optimiser function (`opt_func`), "
                    "the loss function, and optionally the metrics to print."),
        dict(n=33, q="Show Python or pseudocode for the basic steps of a training loop.",
             where=[("05_sgd", "5 · One epoch of SGD: `train_epoch`"), ("09_further_research", "Your own Learner")],
             answer="```\nfor epoch in range(n_epochs):\n"
                    "    for xb, yb in dls.train:\n"
                    "        loss = loss_func(model(xb), yb)\n"
                    "        loss.backward()\n"
                    "        opt.step()\n"
                    "        opt.zero_grad()\n"
                    "    print(metric on dls.valid)   # validate after each epoch\n```"),
        dict(n=34, q="What is \"ReLU\"? Plot it for inputs from −2 to +2.",
             where=[("07_nonlinearity", "2 · ReLU, the activation function")], code="relu",
             answer="The rectified linear unit, `max(0, x)`: negative numbers become 0, positive ones pass "
                    "unchanged. From −2 to 0 the plot is flat at 0, then it rises as a straight line of slope 1 "
                    "to 2.", chart="relu"),
        dict(n=35, q="What is an \"activation function\"?",
             where=[("07_nonlinearity", "2 · ReLU, the activation function")],
             answer="A nonlinear function put between linear layers, applied to every activation on its own: "
                    "ReLU, sigmoid, .... Without one, a stack of linear layers is just one linear layer; with it, "
                    "the network can represent curved boundaries. Also called a *nonlinearity*."),
        dict(n=36, q="What's the difference between `F.relu` and `nn.ReLU`?",
             where=[("07_nonlinearity", "`F.relu` or `nn.ReLU`? A function and a module")],
             answer="They compute the same thing. `F.relu` is a plain function you call on a tensor; `nn.ReLU` is a "
                    "module, a class you create (`nn.ReLU()`) and that calls it in its `forward`, so that it can be "
                    "a layer of an `nn.Sequential`. Neither has parameters."),
        dict(n=37, q="The universal approximation theorem says one nonlinearity is enough to approximate any "
                     "function as closely as we like. Why do we use more?",
             where=[("07_nonlinearity", "5 · Any curve from a few bends"),
                    ("08_bias_and_going_deeper", "4 · Why deeper: the same parameters, two shapes")],
             answer="The theorem only says that *some* weights exist; it does not say how many units they need or "
                    "whether training will find them. In practice deeper networks, with more nonlinearities and "
                    "smaller matrices, reach a given accuracy with fewer parameters, train faster and use less "
                    "memory than one very wide layer."),
    ]
    # the coding questions' model answers, shown behind "one answer (try first)"
    MODEL_CODE = {
        "odd_doubled": "def odd_doubled(nums):\n    return [2 * x for x in nums if x % 2 == 1]",
        "rank_of": "def rank_of(t):\n    return len(t.shape)      # the same as t.ndim",
        "l1_and_rmse": ("def l1_and_rmse(a, b):\n    l1 = (a - b).abs().mean()            # F.l1_loss(a, b)\n"
                        "    rmse = ((a - b) ** 2).mean().sqrt()  # F.mse_loss(a, b).sqrt()\n    return l1, rmse"),
        "double_and_corner": ("def double_and_corner():\n    t = torch.arange(1, 10).view(3, 3)  # [[1, 2, 3], "
                              "[4, 5, 6], [7, 8, 9]]\n    return (t * 2)[1:, 1:]               # tensor([[10, 12], "
                              "[16, 18]])"),
        "pair_up": "def pair_up(a, b):\n    return list(zip(a, b))",
        "matmul": ("def matmul(a, b):\n    # (n, k, 1) times (1, k, m): every row of a meets every column of b\n"
                   "    return (a[:, :, None] * b[None, :, :]).sum(dim=1)\n\n"
                   "# or with loops, as written by hand:\n"
                   "# out[i, j] = sum(a[i, k] * b[k, j] for k in range(a.shape[1]))"),
        "relu": "def relu(x):\n    return x.clamp(min=0)   # or torch.where(x > 0, x, 0.0), or x * (x > 0)",
    }
    PARTS = [("Pixels, tensors and a first baseline", 1, 10), ("Gradient descent, the loss and the loop", 11, 25),
             ("From the loop to a neural network", 26, 37)]


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 10 · Questionnaire: the chapter in 37 questions

    The book closes chapter 4 with 37 questions. Here they are, in the book's order, each with the lesson and
    section of this course that answers it.

    - **Write before you look.** Type your own answer in the box under a question, then open
      *compare with a model answer*. Where your answers are kept is in the box below.
    - **Seven questions are code** (4, 6, 7, 9, 26, 29, 34). Their functions sit in cells of this notebook:
      open it with `digitcore lesson 10 --edit` (or `marimo edit lessons/10_questionnaire.py`), replace each
      `raise NotImplementedError`, and the box under the question checks your function every time it changes,
      saying what is wrong when it is.
    - To jump to a lesson: `digitcore lesson 05` opens lesson 05, and so on; the section names below are its
      headings.
    - Reading the book alongside? The project's `docs/book.md` puts each fastai name the chapter uses beside what
      the lessons use; lesson 07, "The book's path, walked", trains `simple_net` exactly as the chapter does, and
      lesson 08, "The book's recipe and `digitcore reproduce --deep`", says how its resnet18 differs from the book's.
    """)
    return


@app.cell
def _():
    mo.vstack([
        plots.data_notice(None, "The questions are about the whole chapter; the coding ones run on small tensors."),
        mo.callout(mo.md(answers.WHERE_ANSWERS_LIVE), kind="info"),
    ])
    return


@app.function
def where_text(where) -> str:
    """Where the course answers a question, as markdown: 'lesson 05, “4 · Mini-batches ...”; ...'."""
    return "; ".join(f"lesson {stem[:2]}, “{heading}”" for stem, heading in where)


@app.function
def question_label(q: dict) -> str:
    """A question as plain text, its number first: the visible label of its answer box and its heading in the
    downloaded answers."""
    return f"{q['n']}. {q['q'].replace('`', '')}"


@app.cell
def _():
    notes = mo.ui.dictionary({str(q["n"]): answers.answer_box("10_questionnaire", str(q["n"]), question_label(q))
                              for q in QUESTIONS if "code" not in q})
    return (notes,)


@app.function
def answer_chart(name: str, fn=None) -> alt.Chart:
    """The sigmoid or ReLU on the question's range (−6..6, −2..2); `fn` draws your function instead of torch's."""
    lo, hi = (-6.0, 6.0) if name == "sigmoid" else (-2.0, 2.0)
    x = torch.linspace(lo, hi, 81)
    y = fn(x.clone()) if fn is not None else (torch.sigmoid(x) if name == "sigmoid" else torch.relu(x))
    df = pd.DataFrame({"x": x.numpy(), "y": torch.as_tensor(y, dtype=torch.float32).reshape(-1).numpy()})
    title = "your relu(x)" if fn is not None else f"{name}(x)"
    return alt.Chart(df).mark_line(color="#e76f51", strokeWidth=3).encode(
        x=alt.X("x:Q", scale=alt.Scale(domain=[lo, hi])), y=alt.Y("y:Q", title=title),
    ).properties(width=260, height=160, title=title)


@app.function
def question_view(q: dict, notes, checks: dict) -> mo.Html:
    """One question: its text, where the course answers it, your box (or the check of your function), and the model
    answer behind a click."""
    where = f"<span style='color:#666'>Answered in {where_text(q['where'])}.</span>"
    parts = [mo.md(where if "code" not in q else f"**{q['n']}. {q['q']}**  \n{where}")]  # a box's label is its question
    model = [mo.md(q["answer"])]
    if q.get("chart"):
        model.append(plots.described_chart(answer_chart(q["chart"]), f"the {q['chart']} function drawn as a curve"))
    if "code" in q:
        kind, message = checks[q["n"]]
        parts.append(mo.md(f"Your function: `{q['code']}` (in `marimo edit`)."))
        parts.append(mo.callout(mo.md(message), kind=kind))
        if q["n"] == 34 and kind == "success":
            parts.append(plots.described_chart(answer_chart("relu", relu), "your relu drawn as a curve, x from −2 to 2"))
        model.append(plots.code(MODEL_CODE[q["code"]]))
        title = "one answer (try first)"
    else:
        parts.insert(0, notes[str(q["n"])])
        title = "compare with a model answer"
    parts.append(mo.accordion({title: mo.vstack(model)}))
    return mo.vstack(parts, gap=0.5)


@app.function
def same_values(got, want, atol: float = 1e-5) -> bool:
    """True when `got` (tensor, array, list, number) holds the same numbers in the same shape as tensor `want`."""
    try:
        got = torch.as_tensor(got).double()
    except Exception:  # noqa: BLE001  anything that is not numbers is simply not the same
        return False
    want = torch.as_tensor(want).double()
    return got.shape == want.shape and torch.allclose(got, want, atol=atol)


@app.function
def not_started_yet(name: str) -> tuple[str, str]:
    return "neutral", (f"**`{name}`: not started yet.** Replace `raise NotImplementedError` with your code; "
                       "this box checks it again every time the function changes.")


@app.function
def raised_message(call: str, e: Exception, hint: str = "") -> tuple[str, str]:
    return "warn", f"**`{call}` raised `{type(e).__name__}`:** {str(e)[:200]}" + (f"\n\nHint: {hint}" if hint else "")


@app.function
def check_odd_doubled(fn) -> tuple[str, str]:
    """Q4's check: (callout kind, markdown). Never raises."""
    for nums in ([1, 2, 3, 4, 5], [7, 8, 9, -3], [], [2, 4]):
        given = list(nums)
        want = [2 * x for x in nums if x % 2 == 1]
        try:
            got = fn(given)
        except NotImplementedError:
            return not_started_yet("odd_doubled")
        except Exception as e:  # noqa: BLE001  the student's code: say what went wrong
            return raised_message(f"odd_doubled({nums})", e)
        call = f"`odd_doubled({nums})`"
        if given != nums:
            return "warn", f"**{call} changed the list it was given.** Build a new list instead."
        if not isinstance(got, list):
            return "warn", (f"**{call} returned a `{type(got).__name__}`, not a list.** Square brackets make a list "
                            "comprehension; round ones make a generator.")
        if got == want:
            continue
        if got == [2 * x for x in nums]:
            hint = "every number is doubled: keep only the odd ones with `if x % 2 == 1`."
        elif got == [x for x in nums if x % 2 == 1]:
            hint = "the right numbers are kept, but not doubled."
        elif got == [2 * x for x in nums if x % 2 == 0]:
            hint = "these are the even numbers: odd ones leave a remainder, `x % 2 == 1`."
        else:
            hint = "write it as `[2 * x for x in nums if ...]`."
        return "warn", f"**{call} returned `{got}`, expected `{want}`:** {hint}"
    return "success", "**`odd_doubled` is right** on all four lists, the empty one included."


@app.function
def check_rank_of(fn) -> tuple[str, str]:
    """Q6's check: (callout kind, markdown). Never raises."""
    for shape in [(6131, 28, 28), (28, 28), (3,), (), (2, 1, 3, 4)]:
        t = torch.zeros(shape)
        try:
            got = fn(t)
        except NotImplementedError:
            return not_started_yet("rank_of")
        except Exception as e:  # noqa: BLE001
            return raised_message(f"rank_of(torch.zeros({shape}))", e)
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, int) and not isinstance(got, bool) and got == len(shape):
            continue
        if got == torch.Size(shape) or got == tuple(shape):
            hint = "that is the shape itself; the rank is how many numbers it holds: `len(t.shape)`."
        elif got == t.numel():
            hint = "that is the number of elements (the shape's numbers multiplied); the rank counts the axes."
        elif shape and got == shape[0]:
            hint = "that is the length of the first axis; the rank is how many axes there are."
        else:
            hint = "the rank is the number of axes, `len(t.shape)`."
        return "warn", f"**For a tensor of shape `{shape}` you returned `{got!r}`, expected {len(shape)}:** {hint}"
    return "success", "**`rank_of` is right** for ranks 0 to 4."


@app.function
def check_l1_and_rmse(fn) -> tuple[str, str]:
    """Q7's check: (callout kind, markdown). Never raises."""
    g = torch.Generator().manual_seed(4)
    a, b = torch.rand(5, 28, 28, generator=g), torch.rand(5, 28, 28, generator=g)
    a0, b0 = a.clone(), b.clone()
    d = a - b
    l1, rmse = d.abs().mean(), (d ** 2).mean().sqrt()
    try:
        got = fn(a, b)
    except NotImplementedError:
        return not_started_yet("l1_and_rmse")
    except Exception as e:  # noqa: BLE001
        return raised_message("l1_and_rmse(a, b)", e)
    if not (torch.equal(a, a0) and torch.equal(b, b0)):
        return "warn", "**Your function changed `a` or `b`.** Compute new tensors instead of editing in place."
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return "warn", "**Return two numbers, `(l1, rmse)`**: for example `return l1, rmse`."
    g_l1, g_rmse = got
    ok_l1, ok_rmse = same_values(g_l1, l1), same_values(g_rmse, rmse)
    if ok_l1 and ok_rmse:
        return "success", f"**`l1_and_rmse` is right:** L1 {l1:.4f}, RMSE {rmse:.4f} on two random 5×28×28 tensors."
    if same_values(g_l1, rmse) and same_values(g_rmse, l1):
        return "warn", "**Both numbers are right but swapped:** return `(l1, rmse)` in that order."
    if not ok_l1:
        if same_values(g_l1, d.mean()):
            hint = "without `.abs()` positive and negative differences cancel out."
        elif same_values(g_l1, d.abs().sum()):
            hint = "that is the sum of the absolute differences; take the mean."
        else:
            hint = "the mean of the absolute differences, `(a - b).abs().mean()`."
        return "warn", f"**The L1 norm is off (expected {l1:.4f}):** {hint}"
    if same_values(g_rmse, (d ** 2).mean()):
        hint = "that is the mean squared error; RMSE is its square root."
    elif same_values(g_rmse, d.abs().sqrt().mean()) or same_values(g_rmse, d.abs().mean().sqrt()):
        hint = "square the differences first, then take the mean, then the root (root of the *mean of squares*)."
    elif same_values(g_rmse, (d ** 2).sum().sqrt()):
        hint = "that is the root of the *sum* of squares; RMSE takes the mean before the root."
    else:
        hint = "square, mean, root: `((a - b) ** 2).mean().sqrt()`."
    return "warn", f"**The RMSE is off (expected {rmse:.4f}):** {hint}"


@app.function
def check_double_and_corner(fn) -> tuple[str, str]:
    """Q9's check: (callout kind, markdown). Never raises."""
    t = torch.arange(1, 10).view(3, 3)
    want = (t * 2)[1:, 1:]
    try:
        got = fn()
    except NotImplementedError:
        return not_started_yet("double_and_corner")
    except Exception as e:  # noqa: BLE001
        return raised_message("double_and_corner()", e)
    if same_values(got, want):
        return "success", "**Right:** `tensor([[10, 12], [16, 18]])`."
    if same_values(got, want.reshape(-1)):
        return "success", ("**Right numbers** (10, 12, 16, 18), as a flat list. `(t * 2)[1:, 1:]` keeps them in "
                           "their 2 × 2 block, as they sit in the picture.")
    if same_values(got, t[1:, 1:]):
        hint = "this is the bottom-right corner, but not doubled: `t * 2` first."
    elif same_values(got, t * 2):
        hint = "doubled, but all nine: now take rows 1-2 and columns 1-2, `[1:, 1:]`."
    elif same_values(got, (t * 2)[:2, :2]):
        hint = "that is the top-left corner; the bottom-right one is `[1:, 1:]`."
    elif same_values(got, (t * 2)[1:, 1:].T):
        hint = "the numbers are right but transposed: keep rows as rows."
    else:
        hint = "1 to 9 row by row is `[[1, 2, 3], [4, 5, 6], [7, 8, 9]]`; double it, then slice `[1:, 1:]`."
    shown = got.tolist() if hasattr(got, "tolist") else got
    return "warn", f"**You returned `{shown!r}`; expected `[[10, 12], [16, 18]]`:** {hint}"[:600]


@app.function
def check_pair_up(fn) -> tuple[str, str]:
    """Q26's check: (callout kind, markdown). Never raises."""
    for a, b in (([1, 2, 3, 4], "abcd"), ([], ""), (["x", "y"], [0.5, 1.5])):
        want = list(zip(a, b))
        call = f"`pair_up({a!r}, {b!r})`"
        try:
            got = fn(a, b)
        except NotImplementedError:
            return not_started_yet("pair_up")
        except Exception as e:  # noqa: BLE001
            return raised_message(f"pair_up({a!r}, {b!r})", e)
        if got == want:
            continue
        if isinstance(got, zip) or (hasattr(got, "__next__") and not isinstance(got, (list, tuple))):
            hint = "`zip` is lazy: it gives an iterator, not a list. Wrap it: `list(zip(a, b))`."
        elif isinstance(got, dict):
            hint = "a dict is not a list of pairs (and would merge repeated keys): `list(zip(a, b))`."
        elif isinstance(got, (list, tuple)) and [tuple(p) for p in got if isinstance(p, (list, tuple))] == want:
            hint = "the pairs should be tuples `(1, 'a')`, and the whole a list."
        elif isinstance(got, list) and got == [(y, x) for x, y in want]:
            hint = "each pair is the wrong way round: the item of `a` comes first."
        else:
            hint = "pair the first items, then the second ones, ...: that is what `zip` does."
        return "warn", f"**{call} returned `{got!r}`; expected `{want!r}`:** {hint}"[:600]
    return "success", ("**`pair_up` is right.** A list of `(x, y)` tuples like this is a Dataset: `len` works, and "
                       "`dset[0]` is one input with its label.")


@app.function
def uses_builtin(fn, names: set, matmul_op: bool = False) -> bool:
    """True when `fn`'s code (or code nested in it) calls one of `names` or uses the `@` operator."""
    code = getattr(fn, "__code__", None)
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        for ins in dis.get_instructions(c):
            if ins.opname in ("LOAD_ATTR", "LOAD_METHOD", "LOAD_GLOBAL", "LOAD_NAME") and ins.argval in names:
                return True
            if matmul_op and ins.opname in ("BINARY_OP", "BINARY_MATRIX_MULTIPLY") and "@" in (ins.argrepr or "@"):
                return True
        stack += [k for k in c.co_consts if hasattr(k, "co_code")]
    return False


@app.function
def check_matmul(fn) -> tuple[str, str]:
    """Q29's check: (callout kind, markdown). Never raises."""
    g = torch.Generator().manual_seed(29)
    cases = [(torch.randn(2, 3, generator=g), torch.randn(3, 4, generator=g)),
             (torch.randn(3, 3, generator=g), torch.randn(3, 3, generator=g)),
             (torch.randn(5, 784, generator=g), torch.randn(784, 1, generator=g))]
    for a, b in cases:
        want = a @ b
        a0, b0 = a.clone(), b.clone()
        call = f"`matmul` on `{tuple(a.shape)}` and `{tuple(b.shape)}`"
        try:
            got = fn(a, b)
        except NotImplementedError:
            return not_started_yet("matmul")
        except Exception as e:  # noqa: BLE001
            return raised_message(f"matmul(a {tuple(a.shape)}, b {tuple(b.shape)})", e,
                           "an element-wise `a * b` needs equal (or broadcastable) shapes; matrix multiplication "
                           "pairs row i of `a` with column j of `b`.")
        if not (torch.equal(a, a0) and torch.equal(b, b0)):
            return "warn", "**Your function changed `a` or `b`.** Compute a new tensor instead."
        if same_values(got, want, atol=1e-3):
            continue
        if a.shape == b.shape and same_values(got, a * b):
            hint = "that is the element-wise product `a * b`; `@` sums row-times-column products."
        elif same_values(got, want.T, atol=1e-3) or same_values(got, b.T @ a.T, atol=1e-3):
            hint = "right numbers, transposed: row i of the result comes from row i of `a`."
        elif a.shape == b.shape and same_values(got, b @ a, atol=1e-3):
            hint = "that is `b @ a`: the order matters, rows come from the first tensor."
        else:
            hint = f"expected shape `{tuple(want.shape)}`: entry (i, j) is `(a[i] * b[:, j]).sum()`."
        shape = tuple(got.shape) if hasattr(got, "shape") else type(got).__name__
        return "warn", f"**{call} gave a wrong result** (yours: `{shape}`): {hint}"
    if uses_builtin(fn, {"matmul", "mm", "einsum", "bmm", "linear", "tensordot", "mv", "dot", "inner"},
                     matmul_op=True):
        return "warn", ("**Right numbers, but with `@` (or a torch function that does the same).** The question is "
                        "what `@` does: write it from rows times columns, with loops or broadcasting and `.sum`.")
    return "success", "**`matmul` is right:** the same numbers as `a @ b`, for square, wide and batch-sized tensors."


@app.function
def check_relu(fn) -> tuple[str, str]:
    """Q34's check: (callout kind, markdown). Never raises."""
    x = torch.linspace(-2, 2, 9)
    given = x.clone()
    want = x.clamp(min=0)
    try:
        got = fn(given)
    except NotImplementedError:
        return not_started_yet("relu")
    except Exception as e:  # noqa: BLE001
        return raised_message("relu(torch.linspace(-2, 2, 9))", e, "`x.clamp(min=0)` works on a whole tensor at once.")
    if not torch.equal(given, x):
        return "warn", ("**`relu` changed its input in place** (a method ending in `_`, or `x[x < 0] = 0`). A layer "
                        "must leave its input alone: return a new tensor.")
    if same_values(got, want):
        if uses_builtin(fn, {"relu", "relu_", "ReLU"}):
            return "warn", ("**Right numbers, with torch's own relu.** Write it from its definition: "
                            "`x.clamp(min=0)`, `torch.where(x > 0, x, 0.)` or `x * (x > 0)`.")
        return "success", "**`relu` is right.** Here it is, drawn from −2 to +2:"
    if same_values(got, x.abs()):
        hint = "that is the absolute value: negatives must become 0, not positive."
    elif same_values(got, (x > 0).float()) or same_values(got, (x >= 0).float()):
        hint = "that is a step (0 or 1); ReLU keeps the positive values themselves."
    elif same_values(got, x):
        hint = "nothing changed: negative inputs must become 0."
    elif same_values(got, x.clamp(max=0)):
        hint = "this keeps the negatives; ReLU keeps the positives."
    else:
        hint = "max(0, x) for every element: `x.clamp(min=0)`."
    shown = [round(v, 2) for v in torch.as_tensor(got).reshape(-1).tolist()] if same_values(got, got) else got
    return "warn", f"**`relu({[round(v, 1) for v in x.tolist()]})` gave `{shown}`:** {hint}"[:600]


@app.cell
def _():
    checks = {4: check_odd_doubled(odd_doubled), 6: check_rank_of(rank_of), 7: check_l1_and_rmse(l1_and_rmse),
              9: check_double_and_corner(double_and_corner), 26: check_pair_up(pair_up),
              29: check_matmul(matmul), 34: check_relu(relu)}
    return (checks,)


@app.cell(hide_code=True)
def _():
    mo.md(rf"""
    ## Part 1 · {PARTS[0][0]} (questions {PARTS[0][1]} to {PARTS[0][2]})
    """)
    return


@app.cell
def _(checks, notes):
    mo.vstack([question_view(q, notes, checks) for q in QUESTIONS if PARTS[0][1] <= q["n"] <= PARTS[0][2]], gap=1.5)
    return


@app.cell(hide_code=True)
def _():
    mo.md(rf"""
    ## Part 2 · {PARTS[1][0]} (questions {PARTS[1][1]} to {PARTS[1][2]})
    """)
    return


@app.cell
def _(checks, notes):
    mo.vstack([question_view(q, notes, checks) for q in QUESTIONS if PARTS[1][1] <= q["n"] <= PARTS[1][2]], gap=1.5)
    return


@app.cell(hide_code=True)
def _():
    mo.md(rf"""
    ## Part 3 · {PARTS[2][0]} (questions {PARTS[2][1]} to {PARTS[2][2]})
    """)
    return


@app.cell
def _(checks, notes):
    mo.vstack([question_view(q, notes, checks) for q in QUESTIONS if PARTS[2][1] <= q["n"] <= PARTS[2][2]], gap=1.5)
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Your progress
    """)
    return


@app.cell
def _(checks, notes):
    _texts = answers.answer_texts(notes)
    _written = sum(bool(t.strip()) for t in _texts.values())
    _passed = sorted(n for n, (kind, _) in checks.items() if kind == "success")
    _labels = {str(q["n"]): question_label(q) for q in QUESTIONS if "code" not in q}
    mo.vstack([
        mo.md(f"You have written **{_written}** of {len(_texts)} answers, and **{len(_passed)}** of "
              f"{len(checks)} coding questions pass" + (f" ({', '.join(map(str, _passed))})." if _passed else ".")),
        answers.answers_download("10_questionnaire", "Chapter 4 questionnaire", _labels, _texts),
        mo.md("The file holds every written question with your answer; the answers also stay in this browser."),
    ])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Where each question is answered
    """)
    return


@app.cell
def _():
    mo.Html(pd.DataFrame([{"question": q["n"], "asks": q["q"], "lesson": " / ".join(sorted({s[:2] for s, _ in q["where"]})),
                           "section": "; ".join(h for _, h in q["where"]),
                           "checked code": q.get("code", "")} for q in QUESTIONS]).to_html(index=False, border=0))
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Your functions for the coding questions

    In `marimo edit` (`digitcore lesson 10 --edit`), the seven function cells below are yours: replace each
    `raise NotImplementedError(...)` with your code. Each one is checked under its question, above, every time
    you change it. (In the app view, these cells' code is hidden.)
    """)
    return


@app.function
def odd_doubled(nums: list) -> list:
    """Q4: with one list comprehension, the odd numbers of `nums`, doubled, in order: [1, 2, 3] -> [2, 6]."""
    raise NotImplementedError("one list comprehension: [... for x in nums if ...]")


@app.function
def rank_of(t: torch.Tensor) -> int:
    """Q6: the rank of tensor `t`, worked out from its shape."""
    raise NotImplementedError("the rank is the length of the shape")


@app.function
def l1_and_rmse(a: torch.Tensor, b: torch.Tensor) -> tuple:
    """Q7: (L1 norm, RMSE) of the difference of two same-shaped float tensors, each a 0-d tensor."""
    raise NotImplementedError("return (mean absolute difference, root of the mean squared difference)")


@app.function
def double_and_corner():
    """Q9: a 3x3 tensor of the numbers 1 to 9, doubled; return its bottom-right four numbers (2x2)."""
    raise NotImplementedError("make the tensor, double it, slice it")


@app.function
def pair_up(a, b) -> list:
    """Q26: pair_up([1, 2, 3, 4], 'abcd') == [(1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')]."""
    raise NotImplementedError("pair the items of a and b, as a list of tuples")


@app.function
def matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Q29: what `a @ b` computes for an (n, k) and a (k, m) tensor, written without `@` or torch.matmul."""
    raise NotImplementedError("entry (i, j) is row i of a times column j of b, summed")


@app.function
def relu(x: torch.Tensor) -> torch.Tensor:
    """Q34: the rectified linear unit, written from its definition (not torch's relu): a new tensor."""
    raise NotImplementedError("negatives become 0, the rest stay as they are")


if __name__ == "__main__":
    app.run()
