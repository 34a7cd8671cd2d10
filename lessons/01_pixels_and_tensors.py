import marimo

__generated_with = "0.25.2"
app = marimo.App(
    width="medium",
    app_title="01 · Pixels and tensors",
    html_head_file="__marimo__/first_screen/01_pixels_and_tensors.html",
)

with app.setup:
    import digitcore.lesson_imports  # noqa: F401, I001  first: imports torch & co. once for all tabs (see its docstring)
    import ast
    import io
    import os
    from pathlib import Path

    import altair as alt
    import marimo as mo
    import numpy as np
    import pandas as pd
    import torch
    from PIL import Image

    from digitcore import plots
    from digitcore.answers import kept_text
    from digitcore.data import load_sample

    TOUR = [  # the tensor API tour: each line is run as written, on t = torch.tensor(data)
        ("t[1]", "index 1 (counting starts at 0): of a matrix, the second row"),
        ("t[:, 1]", "column 1: ':' takes every row"),
        ("t[1, 1:3]", "row 1, columns 1 and 2: a slice stops before its end"),
        ("t + 1", "1 is added to every element"),
        ("t * 1.5", "ints times a float give floats"),
        ("t.dtype", "whole numbers are int64 (the book prints t.type(): 'torch.LongTensor')"),
        ("(t * 1.5).dtype", ""),
        ("t.shape", ""),
    ]
    EXAMPLES = {  # the rank-and-shape picker: the label, then the code that makes the tensor (run as written)
        "a scalar: one pixel": "train_threes[1][14, 14]",
        "a vector: one row of pixels": "train_threes[1][14]",
        "a greyscale image: one digit": "train_threes[1]",
        "a colour image: the digit in red ink": "colour_version(train_threes[1])",
        "the stacked set: every training 3": "train_threes",
    }
    VIEWS = {  # the view picker: the label, then the shape passed to view (run as written)
        "one row per image": "(-1, 28*28)",
        "everything in one long row": "(-1,)",
        "wider images": "(-1, 14, 56)",
        "back to images": "(-1, 28, 28)",
        "rows of 500 (does it divide?)": "(-1, 500)",
    }
    # the self-checks of the two small exercises: (arguments, expected result)
    DOUBLE_AND_CORNER_CASES = [((), torch.tensor([[10, 12], [16, 18]]))]
    ODD_DOUBLED_CASES = [(([1, 2, 3, 4, 5],), [2, 6, 10]), (([],), []), (([7, 8, 9, -3],), [14, 18, -6]), (([2, 4],), [])]

    torch.set_num_threads(1)  # tiny models: one thread is as fast, and on two cores it leaves one for the browser


@app.function
def tensor_facts(t) -> dict:
    """Rank, shape, dtype and number of values of a tensor, as plain Python values."""
    return {
        "rank": t.ndim,
        "shape": tuple(t.shape),
        "dtype": str(t.dtype).replace("torch.", ""),
        "numel": t.numel(),
    }


@app.function
def try_view(t, shape: str):
    """`t.view` with `shape` as written, e.g. "(-1, 28*28)" (one of VIEWS), or the error message torch gives:
    returns (tensor or None, message)."""
    try:
        out = eval(f"t.view{shape}", {"t": t})  # a fixed shape from VIEWS, never the page's text
    except RuntimeError as e:
        return None, str(e).split("\n")[0]
    return out, ""


@app.function
def make_example(code: str, train_threes):
    """The tensor that `code` (one of EXAMPLES) makes, run as written."""
    return eval(code, {"train_threes": train_threes, "colour_version": colour_version})  # fixed code, never typed


@app.function
def value_histogram(img, bins: int = 16) -> pd.DataFrame:
    """How many pixels fall in each value band: a small frame for a bar chart."""
    a = img.detach().flatten().float().numpy()
    top = 255.0 if not img.is_floating_point() else 1.0
    counts, edges = np.histogram(a, bins=bins, range=(0.0, top))
    return pd.DataFrame({"from": edges[:-1], "to": edges[1:], "pixels": counts})


@app.function
def value_chart(img):
    """A bar chart of value_histogram(img): how many pixels fall in each band of values, each bar labelled."""
    base = alt.Chart(value_histogram(img)).encode(
        x=alt.X("from:Q", bin="binned", title="pixel value (bands of 16)"),
        x2="to:Q",
        y=alt.Y("pixels:Q", title="number of pixels"),
        tooltip=["from:Q", "to:Q", "pixels:Q"],
    )
    return (base.mark_bar() + base.mark_text(dy=-6, fontSize=10).encode(text="pixels:Q")).properties(
        width=380, height=170, title="most pixels are blank paper")


@app.function
def stack_images(imgs):
    """The book's stacking step: a list of (28, 28) uint8 images, stacked into one tensor, as floats in 0..1."""
    image_list = [img for img in imgs]  # a plain Python list of (28, 28) tensors
    return torch.stack(image_list).float() / 255


@app.function
def sample_folder():
    """The mnist_sample folder of PNGs when DIGITCORE_DATA names one (as fastai's untar_data gives it), else None."""
    named = os.environ.get("DIGITCORE_DATA", "")
    if not named or named == "offline":
        return None
    for root in (Path(named) / "mnist_sample", Path(named)):
        if (root / "train" / "3").is_dir():
            return root
    return None


@app.function
def ls(folder) -> str:
    """A folder's entries the way fastai's `path.ls()` prints them: the count, then the names (first 5)."""
    names = sorted(p.name for p in Path(folder).iterdir())
    shown = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
    return f"(#{len(names)}) [{shown}]"


@app.function
def parse_data(text: str) -> list:
    """The tour's `data`: a Python list of numbers or of lists of numbers (at most 8 x 8), read safely."""
    value = ast.literal_eval(text.strip())
    rows = value if isinstance(value, list) and value and all(isinstance(r, list) for r in value) else [value]
    if not all(isinstance(r, list) and r and all(isinstance(v, (int, float)) for v in r) for r in rows):
        raise ValueError("write a list of numbers, or a list of lists of numbers, like [[1, 2, 3], [4, 5, 6]]")
    if len(rows) > 8 or any(len(r) > 8 for r in rows):
        raise ValueError("keep it small: at most 8 rows of 8 numbers")
    return value


@app.function
def tour(t) -> str:
    """Each TOUR expression run on t, written as a Python session: the code, then what it gives (or its error)."""
    lines = [">>> t = torch.tensor(data)", ">>> t", repr(t)]
    for expr, note in TOUR:
        try:
            out = repr(eval(expr, {"t": t}))  # fixed expressions from TOUR, never the page's text
        except Exception as e:  # noqa: BLE001  an index past the end is part of the lesson
            out = f"{type(e).__name__}: {e}"
        lines += [f">>> {expr}" + (f"  # {note}" if note else ""), out]
    return "\n".join(lines)


@app.function
def double_and_corner():
    """EXERCISE (the book's questionnaire, Q9): make a 3x3 tensor holding the numbers 1 to 9 (row by row),
    double it, and return its bottom-right four numbers: a 2x2 tensor."""
    raise NotImplementedError("make the 3x3 tensor, double it, return the bottom-right 2x2")


@app.function
def odd_doubled(nums):
    """EXERCISE (the book's questionnaire, Q4): with a list comprehension, the odd numbers of `nums`, doubled,
    in their order: odd_doubled([1, 2, 3, 4, 5]) == [2, 6, 10]."""
    raise NotImplementedError("one line: [... for x in nums if ...]")


@app.function
def colour_version(img):
    """A greyscale uint8 digit as a colour image, channels first (3, 28, 28): red ink on white paper."""
    paper = 255 - img  # colour images store light, not ink: white paper is 255 in every channel
    return torch.stack([torch.full_like(img, 255), paper, paper])


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    # 01 · Pixels and tensors

    A computer does not see a "3". It sees a grid of 28 × 28 numbers, one per pixel, each saying how much ink
    is there. Everything in this course (comparing digits, training a model) is arithmetic on such grids.

    In this lesson you will see how the digits are stored on disk; look at one handwritten 3 as a picture,
    then as its numbers; learn the two words that describe any tensor, **rank** and **shape**, and the basic
    ways to index and compute with tensors; stack thousands of digits into one tensor; and flatten images into
    rows with `view`.

    Reading along in the book? The project's `docs/book.md` puts each fastai name the chapter uses beside what these lessons use.
    """)
    return


@app.cell
def _():
    data = load_sample()
    plots.data_notice(data)
    return (data,)


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## The data on disk

    The chapter uses fastai's **MNIST_SAMPLE**: only the 3s and 7s of MNIST, as small greyscale PNG files. The
    book downloads it with `untar_data(URLs.MNIST_SAMPLE)`, which returns the folder as a `Path`, and looks
    inside with `path.ls()`. The layout is the most common one for image data: **one folder per label**, so
    a file's folder name says which digit it is, and a `labels.csv` listing every file with its label.

    The images come split in two: `train`, the digits a model learns from, and `valid`, the **validation
    set**, held back and never used for learning. A model can get very good at the exact images it was
    trained on (even memorise them, which is called **overfitting**) while doing worse on new ones, so only
    digits it has never seen tell us how it will do on the next digit someone writes. That is why every
    accuracy in this course is measured on `valid`.
    """)
    return


@app.cell(hide_code=True)
def _(data):
    _folder = sample_folder()
    _n = {k: len(getattr(data, k)) for k in ("train_threes", "train_sevens", "valid_threes", "valid_sevens")}
    _tree = mo.md(
        f"""
    ```text
    mnist_sample/
    ├── labels.csv       one line per file: name,label
    ├── train/
    │   ├── 3/           {_n["train_threes"]:>6,} PNG files, 28 × 28 pixels each
    │   └── 7/           {_n["train_sevens"]:>6,}
    └── valid/
        ├── 3/           {_n["valid_threes"]:>6,}
        └── 7/           {_n["valid_sevens"]:>6,}
    ```
    """
    )
    if _folder is not None:
        _listing = plots.code(
            f"""
            >>> ls(path)
            {ls(_folder)}
            >>> ls(path / "train")
            {ls(_folder / "train")}
            >>> ls(path / "train" / "3")
            {ls(_folder / "train" / "3")}
            """
        )
        _where = mo.md(f"Listed live from `{_folder}`, with this lesson's own `ls` (below):")
    else:
        _listing = mo.md(
            "*This session's digits did not come from a folder (see the data notice above), so there is no "
            "folder to list. With `DIGITCORE_DATA` set to a folder holding `mnist_sample/`, this cell lists "
            "it live. The book's notebook prints* `(#9) [Path('cleaned.csv'),...]` *for the top folder (its "
            "author's copy held extra files besides `labels.csv`, `train` and `valid`) and* "
            "`(#6131) [Path('train/3/10.png'),Path('train/3/10000.png'),...]` *for `train/3`.*"
        )
        _where = mo.md("The counts are this session's data:")
    mo.vstack([_where, _tree, _listing, plots.code(ls, title="the code: ls")])
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    Files in a folder come in no particular order, so the book sorts them (`.ls().sorted()`), by file name;
    this course's loader does the same, so `train_threes[1]` here is the book's `threes[1]`. Reading each PNG
    gives a 28 × 28 array of numbers; the next sections look at one.

    ## One digit, two ways

    Pick a training 3 with the slider. On the left, the picture; on the right, the same pixels as a heat map:
    hover a square to read its value.
    """)
    return


@app.cell
def _(data):
    pick = mo.ui.slider(0, len(data.train_threes) - 1, value=1, label="which training 3", show_value=True)
    pick
    return (pick,)


@app.cell
def _(data, pick):
    three = data.train_threes[pick.value]
    mo.hstack(
        [plots.digit_images(three, scale=7, what=f"training 3 number {pick.value}"),
         plots.described_chart(plots.digit_heatmap(three, title=f"train 3 #{pick.value}"),
                               f"training 3 number {pick.value} as a heat map: dark cells are ink")],
        justify="start",
        gap=2,
    )
    return (three,)


@app.cell(hide_code=True)
def _(pick, three):
    plots.code(
        f"""
        three = train_threes[{pick.value}]       # the book: tensor(Image.open(threes[{pick.value}]))
        three.shape, three.dtype
        # ({tuple(three.shape)}, {three.dtype})
        """
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    The image is a tensor of shape `(28, 28)` with dtype `uint8`: unsigned 8-bit integers, whole numbers
    from 0 (no ink) to 255 (full ink). Here is a window of it as a table, shaded like the pixels they are.
    Move the window with the two range sliders.
    """)
    return


@app.cell
def _():
    rows = mo.ui.range_slider(0, 28, value=[4, 16], label="rows", show_value=True)
    cols = mo.ui.range_slider(0, 28, value=[4, 22], label="columns", show_value=True)
    mo.hstack([rows, cols], justify="start")
    return cols, rows


@app.cell
def _(cols, rows, three):
    mo.vstack(
        [
            plots.code(f"three[{rows.value[0]}:{rows.value[1]}, {cols.value[0]}:{cols.value[1]}]"),
            plots.pixel_table(three, rows=slice(*rows.value), cols=slice(*cols.value)),
        ]
    )
    return


@app.cell(hide_code=True)
def _(three):
    mo.hstack(
        [
            mo.vstack([
                plots.described_chart(value_chart(three), "How many of the 784 pixels have each value, in bands "
                                                          "of 16: most pixels are blank paper (0)."),
                plots.code(value_histogram, value_chart, title="the code of this chart: value_histogram, value_chart"),
            ]),
            mo.md(
                f"Of the {three.numel()} pixels, **{int((three == 0).sum())}** are exactly 0 and "
                f"**{int((three > 200).sum())}** are above 200: a digit is a few strokes of ink on a lot "
                "of empty paper.  \n`(three == 0).sum()`, `(three > 200).sum()`: a comparison gives a tensor "
                "of `True`/`False`, and `sum` counts the `True`s."
            ),
        ],
        justify="start",
        align="center",
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Rank and shape

    - The **shape** of a tensor lists its size along each axis.
    - The **rank** is how many axes it has: the length of the shape, `t.ndim == len(t.shape)`.

    A single number has rank 0 and shape `()`. A row of numbers has rank 1. A **greyscale** image, like these
    digits, has rank 2: rows and columns. A **colour** image has rank 3: it stores three numbers per pixel
    (red, green, blue), so it is three greyscale images, one per channel. A stack of greyscale images, one
    behind the other, also has rank 3. Pick one:
    """)
    return


@app.cell
def _():
    which = mo.ui.dropdown(options=list(EXAMPLES), value="a greyscale image: one digit", label="tensor")
    which
    return (which,)


@app.cell
def _(data, which):
    chosen_code = EXAMPLES[which.value]
    chosen = make_example(chosen_code, data.train_threes)
    facts = tensor_facts(chosen)
    return chosen, chosen_code, facts


@app.cell(hide_code=True)
def _(chosen, chosen_code, facts):
    if facts["rank"] == 0:
        _pic = mo.md(f"## `{int(chosen)}`")
    elif facts["rank"] == 1:
        _pic = plots.described_chart(plots.digit_heatmap(chosen.view(1, -1), width=420, height=30),
                                     "row 14 of the 3: 28 pixel values as a strip of cells, dark for ink")
    elif facts["rank"] == 2:
        _pic = plots.digit_images(chosen, scale=5, what="the training 3 train_threes[1]")
    elif chosen.shape[0] == 3:  # a colour image, channels first: the picture, then its three channels
        _buf = io.BytesIO()
        Image.fromarray(chosen.permute(1, 2, 0).numpy()).resize((140, 140), Image.NEAREST).save(_buf, "PNG")
        _pic = mo.hstack(
            [mo.image(_buf.getvalue(), width=140, alt="the same 3 in red ink: a colour image")]
            + [
                mo.vstack([mo.md(f"`t[{i}]`, {name}: dark = little {name}"),
                           plots.digit_images(255 - chosen[i], scale=3, what=f"its {name} channel: dark = little {name}")])
                for i, name in enumerate(("red", "green", "blue"))
            ],
            justify="start",
        )
    else:
        _pic = mo.vstack(
            [plots.digit_images(chosen[:30], ncols=15, scale=2, what="a 3 from train_threes"), mo.md(f"…and {len(chosen) - 30:,} more")]
        )
    mo.vstack(
        [
            mo.hstack(
                [
                    _pic,
                    mo.md(
                        f"""
    | | |
    |---|---|
    | rank (`t.ndim`) | **{facts["rank"]}** |
    | shape (`t.shape`) | **`{facts["shape"]}`** |
    | dtype | `{facts["dtype"]}` |
    | values (`t.numel()`) | {facts["numel"]:,} |
    """
                    ),
                ],
                justify="start",
                gap=2,
                align="center",
            ),
            plots.code(f"t = {chosen_code}\ntensor_facts(t)", tensor_facts,
                       *([colour_version] if "colour" in chosen_code else [])),
            mo.md(
                "PyTorch puts a colour image's channels first, `(3, 28, 28)`; PIL and NumPy put them last, "
                "`(28, 28, 3)`. Either way: rank 3."
            )
            if "colour" in chosen_code
            else mo.md(""),
        ]
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Tensors you type: indexing and arithmetic

    A tensor is made from ordinary Python data with `torch.tensor(data)` (the book's `tensor(data)`; NumPy's
    `array(data)` works the same way). Indexing picks parts of it: `t[1]` a row, `t[:, 1]` a column (`:`
    means "all of this axis"), `t[1, 1:3]` part of a row (a slice `1:3` takes 1 and 2, stopping before 3).
    Arithmetic applies to every element at once. Edit `data` and read what each line gives; every line below
    is run as written.
    """)
    return


@app.cell
def _():
    data_text = kept_text("01_pixels_and_tensors", "data", "data =", value="[[1, 2, 3], [4, 5, 6]]")
    data_text
    return (data_text,)


@app.cell
def _(data_text):
    try:
        tour_out = plots.code(tour(torch.tensor(parse_data(data_text.value))))
    except (ValueError, SyntaxError, TypeError) as e:
        tour_out = mo.callout(mo.md(f"`{data_text.value}`: {e}"), kind="warn")
    tour_out
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    With the book's data, `[[1, 2, 3], [4, 5, 6]]`, the book prints the same results: `tensor([4, 5, 6])`,
    `tensor([2, 5])`, `tensor([5, 6])`, and so on. Try a single row (`[1, 2, 3]`) and see which lines fail,
    and why.

    ### Exercise: `double_and_corner()`

    Make a 3 × 3 tensor holding the numbers 1 to 9, double it, and return its bottom-right four numbers
    (a 2 × 2 tensor). Write it in the function cell `double_and_corner` near the top (open the lesson with
    `marimo edit`); the box checks it each time it changes.
    """)
    return


@app.cell
def _():
    plots.self_check(
        "double_and_corner",
        double_and_corner,
        DOUBLE_AND_CORNER_CASES,
        hint="1 to 9 row by row is [[1, 2, 3], [4, 5, 6], [7, 8, 9]]; the bottom-right four are rows 1-2, "
        "columns 1-2, so a slice `1:` on both axes.",
    )
    return


@app.cell(hide_code=True)
def _():
    mo.accordion(
        {
            "one answer (try first)": plots.code(
                """
                t = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])   # or torch.arange(1, 10).view(3, 3)
                (t * 2)[1:, 1:]
                # tensor([[10, 12],
                #         [16, 18]])
                """
            )
        }
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Lists of images: list comprehensions

    To read every file of a folder, the book writes a **list comprehension**: `[f(o) for o in items]` builds a
    new list by applying `f` to each item, and an optional `if` keeps only some of them:
    `[f(o) for o in items if condition(o)]`. It is a short, fast form of a `for` loop that appends to a list.
    Pick a list and a rule:
    """)
    return


@app.cell
def _():
    nums_text = kept_text("01_pixels_and_tensors", "nums", "nums =", value="[1, 2, 3, 4, 5, 6, 7]")
    comp_rule = mo.ui.dropdown(
        options={
            "[x * 2 for x in nums]": lambda nums: [x * 2 for x in nums],
            "[x for x in nums if x > 3]": lambda nums: [x for x in nums if x > 3],
            "[x ** 2 for x in nums if x % 2 == 0]": lambda nums: [x**2 for x in nums if x % 2 == 0],
        },
        value="[x * 2 for x in nums]",
        label="rule",
    )
    mo.hstack([nums_text, comp_rule], justify="start")
    return comp_rule, nums_text


@app.cell(hide_code=True)
def _(comp_rule, nums_text):
    try:
        _nums = ast.literal_eval(nums_text.value)
        if not (isinstance(_nums, list) and len(_nums) <= 50 and all(isinstance(x, (int, float)) for x in _nums)):
            raise ValueError("write a list of at most 50 numbers, like [1, 2, 3]")
        _out = plots.code(f">>> nums = {_nums!r}\n>>> {comp_rule.selected_key}\n{comp_rule.value(_nums)!r}")
    except (ValueError, SyntaxError) as e:
        _out = mo.callout(mo.md(f"`{nums_text.value}`: {e}"), kind="warn")
    mo.vstack(
        [
            _out,
            mo.md(
                "The same, on images: `three_list = [img for img in train_threes]` makes a Python list of "
                "`(28, 28)` tensors, and `[torch.tensor(np.array(Image.open(f))) for f in files]` reads a "
                "folder of PNGs into one (the book writes `tensor(Image.open(o))`)."
            ),
        ]
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ### Exercise: `odd_doubled(nums)`

    With one list comprehension, return the odd numbers of `nums`, doubled, in their order:
    `odd_doubled([1, 2, 3, 4, 5])` is `[2, 6, 10]`. Write it in the function cell `odd_doubled` near the top.
    """)
    return


@app.cell
def _():
    plots.self_check(
        "odd_doubled",
        odd_doubled,
        ODD_DOUBLED_CASES,
        hint="Odd means `x % 2 == 1` (true for -3 too in Python); double with `2 * x`: `[2 * x for x in nums if ...]`.",
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Stacking images into one tensor

    Working on one image at a time in a Python loop is slow. Instead we put all the images of a class into a
    single rank-3 tensor with `torch.stack`: the first axis counts images, the other two are rows and columns.
    The same arithmetic then runs on every image at once, in fast compiled code (or on a GPU).

    Pixel values also change type here: `.float()` turns the integers into floating-point numbers, and
    dividing by 255 puts them between 0 and 1: small numbers of the same scale, which training handles
    well (lesson 04 shows what badly scaled inputs do).
    """)
    return


@app.cell
def _(data):
    stacked_threes = stack_images(data.train_threes)
    mo.vstack(
        [
            plots.code(
                stack_images,
                f"""
                stacked_threes = stack_images(train_threes)
                stacked_threes.shape, stacked_threes.dtype
                # ({tuple(stacked_threes.shape)}, {stacked_threes.dtype})
                stacked_threes.min(), stacked_threes.max()
                # ({stacked_threes.min().item():g}, {stacked_threes.max().item():g})
                """,
            ),
            mo.md("The book, on the full MNIST_SAMPLE, prints `torch.Size([6131, 28, 28])` and a rank of 3."),
        ]
    )
    return (stacked_threes,)


@app.cell(hide_code=True)
def _(stacked_threes):
    mo.vstack(
        [
            mo.md(
                f"The first 40 of the {len(stacked_threes):,} images along axis 0 (`stacked_threes[:40]`):"
            ),
            plots.digit_images(stacked_threes[:40], ncols=15, scale=2, what="a 3 from stacked_threes"),
        ]
    )
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## `view`: the same numbers, a different shape

    `view` changes how the numbers are arranged without copying them: reading the tensor row by row, it
    refills the new shape in the same order. So `view(-1, 28*28)` turns each 28 × 28 image into one row of 784
    numbers, and the stack into a table with one row per image: the form a linear model wants. The `-1` means
    "whatever size makes the count come out right"; the total number of values must stay the same, or torch
    refuses.

    Choose a target shape:
    """)
    return


@app.cell
def _():
    view_to = mo.ui.dropdown(options={f"{shape}: {label}": shape for label, shape in VIEWS.items()},
                             value="(-1, 28*28): one row per image", label="view as")
    view_to
    return (view_to,)


@app.cell
def _(stacked_threes, view_to):
    viewed, view_error = try_view(stacked_threes, view_to.value)
    plots.code(
        f"stacked_threes.view{view_to.value}.shape\n# "
        + (f"{tuple(viewed.shape)}" if viewed is not None else "RuntimeError (below)")
    )
    return view_error, viewed


@app.cell(hide_code=True)
def _(view_error, viewed):
    if viewed is None:
        _out = mo.callout(
            mo.md(f"torch refuses: `{view_error}`  \nThe total number of values is not a multiple of 500."),
            kind="danger",
        )
    elif viewed.ndim == 3:
        _out = mo.vstack(
            [
                mo.md(f"The first images of shape `{tuple(viewed.shape[1:])}`:"),
                plots.digit_images(viewed[:8], scale=3, what=f"a 3 viewed as shape {tuple(viewed.shape[1:])}"),
            ]
        )
    else:
        _row = viewed[0] if viewed.ndim == 2 else viewed[:784]
        _out = mo.vstack(
            [
                mo.md(
                    "The first image's 784 values in one row: the strokes become a barcode. "
                    "Row 0 comes first, then row 1, and so on."
                ),
                plots.described_chart(plots.digit_heatmap(_row.reshape(1, -1), width=900, height=40),
                                      "the first image's 784 values in one row, dark for ink: a barcode"),
            ]
        )
    _out
    return


@app.cell(hide_code=True)
def _():
    mo.md(r"""
    ## Check yourself
    """)
    return


@app.cell
def _():
    quiz_items = [
        ("What is the rank of a tensor of shape (6131, 28, 28)?", ["1", "2", "3", "28"], "3",
         "Three axes: images, rows, columns.", "Count the numbers in the shape."),
        ("What is the rank of one colour image?", ["1", "2", "3", "4"], "3",
         "Rows, columns and three channels (red, green, blue); a greyscale image has rank 2.",
         "How many numbers does each pixel of a colour image hold?"),
        ("In a uint8 MNIST image, what does a pixel value of 255 mean?",
         ["no ink (blank paper)", "full ink", "half ink", "an error"], "full ink",
         "0 is blank paper, 255 the darkest stroke.", "Look at the pixel table."),
        ("Why is the data split into train and valid folders?",
         ["to measure the model on digits it never learned from", "to make downloads smaller",
          "because 3s and 7s must be kept apart"],
         "to measure the model on digits it never learned from",
         "A model can do well on its own training images and worse on new ones (overfitting).",
         "Which images may the model learn from, and which tell us how it does on new digits?"),
        ("t = tensor([[1, 2, 3], [4, 5, 6]]): what is t[:, 1]?", ["tensor([4, 5, 6])", "tensor([2, 5])",
         "tensor([5, 6])", "tensor([1, 2, 3])"], "tensor([2, 5])",
         "':' takes every row, 1 the second column.", "':' means all rows; which column is 1?"),
        ("`stacked.view(-1, 28*28)` on a stack of shape (6131, 28, 28) gives which shape?",
         ["(6131, 784)", "(784, 6131)", "(6131, 28, 28)", "(4806704,)"], "(6131, 784)",
         "Each image becomes one row of 784 values.", "-1 keeps the number of images; 28*28 = 784 values per row."),
        ("How many numbers does one MNIST image hold?", None, lambda s: s.strip().replace(",", "") == "784",
         "28 × 28 = 784.", "Rows times columns."),
        ("Why `.float()/255`?",
         ["to make the values fit between 0 and 1", "to make the image smaller", "because uint8 cannot be stacked"],
         "to make the values fit between 0 and 1", "Same picture, values from 0 to 1.",
         "The shape does not change; what happens to the values?"),
    ]
    quiz = plots.quiz(quiz_items)
    return quiz, quiz_items


@app.cell
def _(quiz, quiz_items):
    plots.quiz_view(quiz, quiz_items)
    return


if __name__ == "__main__":
    app.run()
