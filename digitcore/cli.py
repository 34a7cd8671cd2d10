"""The `digitcore` command: data (info, download), reproduce (the chapter's results), bench (training speed),
lesson (open a lesson in the browser), class, handout, gradescope (the autograder's bundle), sweep."""

import argparse
import json
import sys
import textwrap

DESCRIPTION = """\
digitcore: the fastai book's chapter 4 (an MNIST 3s-vs-7s classifier trained from scratch) as a small library.

  digitcore data info          which data is in use, where it comes from, how much there is
  digitcore data download      fetch MNIST into your user cache (needs the network once)
  digitcore reproduce          re-run every result of the chapter; the book's number beside ours
  digitcore bench              time our training against the book's hand-written loop (and fastai, if installed)
  digitcore lesson [NN]        open a lesson in the browser (default 05_sgd); --edit to write code in it
  digitcore class [NN] --students N   serve a lesson to a class on one link (marimo workers behind HAProxy)
  digitcore sweep              train the linear model for many learning rates at once: accuracy and loss per lr
  digitcore handout DIR        write the course for students: no solutions, hidden checks or test corpus
  digitcore gradescope OUT.zip write Gradescope's autograder bundle around the same sandboxed grader

Data: --data DIR, else $DIGITCORE_DATA, else the user cache, else the data shipped in the package (fastai's
MNIST_SAMPLE, the book's 14,434 3s and 7s, and 12,000 of all ten digits; no network needed).
"""


def _data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR", default=None,
                   help="folder with fastai's mnist_sample/ PNGs or the MNIST IDX files (default: $DIGITCORE_DATA, "
                        "then the user cache, then the data shipped in the package; 'embedded' forces that)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="digitcore", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from . import __version__

    parser.add_argument("--version", action="version", version=f"digitcore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{data,reproduce,bench,lesson,class,handout,gradescope,sweep}")

    data = sub.add_parser("data", help="see or fetch the data", description="See which data is in use, or download it.")
    data_sub = data.add_subparsers(dest="action", metavar="{info,download}")
    info = data_sub.add_parser("info", help="which data is in use and how much",
                               description="Say which data is in use, where it comes from and how much there is.")
    _data_arg(info)
    dl = data_sub.add_parser("download", help="download MNIST into the user cache",
                             description="Download MNIST (via torchvision) into the user cache "
                                         "($DIGITCORE_CACHE or ~/.cache/digitcore), or into --dest.")
    dl.add_argument("--dest", metavar="DIR", default=None, help="folder to download into instead of the user cache")

    rep = sub.add_parser(
        "reproduce", help="re-run the chapter: the book's results beside ours",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.dedent("""\
            Re-run every result of the chapter on MNIST_SAMPLE and print the book's number beside ours:
              pixel similarity   mean 3 vs mean 7, L1 distance (valid accuracy on 3s, 7s, and their mean)
              linear             nn.Linear(784, 1), SGD, mnist_loss, fit(10, lr=1)
              simple_net         Linear(784, 30) - ReLU - Linear(30, 1), fit(40, lr=0.1)
              resnet18           with --deep: resnet18, one epoch of one-cycle, cross-entropy (minutes on a CPU)
            Each row gives its wall-clock seconds. Trained models start from a fixed seed (--seed)."""))
    _data_arg(rep)
    rep.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    rep.add_argument("--deep", action="store_true", help="also train resnet18 for one epoch (slow on a CPU)")
    rep.add_argument("--seed", type=int, default=0, help="seed for the initial weights (default 0)")

    bench = sub.add_parser(
        "bench", help="time our training against the book's loop (and fastai)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.dedent("""\
            Train linear fit(10, lr=1) and simple_net fit(40, 0.1) on the CPU several ways, taking turns:
              ours         digitcore's Learner (pre-stacked batches, fused SGD step, callbacks, recorder)
              bare_loop    the floor: the least an eager PyTorch loop can do (no callbacks, no recording)
              book_loop    the chapter's hand-written loop: train_epoch/validate_epoch, batches collated item by item
              fastai       fastai's Learner as the book runs it (progress bar and epoch table), if importable
              fastai_lean  fastai's Learner without progress bar or table
            and print seconds, accuracy and how many times faster ours is: the median of --repeat runs each,
            the ways taking turns, so a busy moment on the machine does not decide a ratio."""))
    _data_arg(bench)
    bench.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    bench.add_argument("--repeat", type=int, default=3, metavar="N", help="runs of each way (default 3; median)")

    lesson = sub.add_parser(
        "lesson", help="open a lesson in the browser (marimo run, warmed up)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.dedent("""\
            Open a lesson as an app with `marimo run`, with torch imported and the digits loaded before marimo
            starts serving, so the page's first screen shows sooner. With --edit, open it with `marimo edit` instead, to
            write the exercises. Options after the lesson's name go to marimo, for example --port 2719 or --headless.
              digitcore lesson             05_sgd, the main lesson
              digitcore lesson 02          02_pixel_similarity
              digitcore lesson 05 --edit   the SGD lesson as a notebook
              digitcore lesson 05 --port 2719 --headless"""))
    lesson.add_argument("name", nargs="?", default=None, help="lesson number or name (default: 05_sgd)")
    lesson.add_argument("--edit", action="store_true", help="open with `marimo edit` to write code in it")
    lesson.add_argument("--run-first", action="store_true",
                        help="run the lesson once before serving, so the first student's kernel finds what every "
                             "kernel computes alike already done (what `digitcore class` does in each worker)")

    klass = sub.add_parser(
        "class", help="serve a lesson to a class on one link (marimo workers behind HAProxy)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.dedent("""\
            Serve a lesson to a whole class on one address: several `marimo run` workers (each warmed up like
            `digitcore lesson`) behind HAProxy, which keeps each student on one worker with a cookie. Needs HAProxy
            (apt-get install haproxy). Ctrl-C stops everything. Sizing: docs/class.md. Options after the lesson's
            name that this command does not know go to every marimo worker.
              digitcore class 05 --students 30               http://<this machine>:8080/ for 30 students
              digitcore class 05 --students 8 --host 127.0.0.1 --port 2720"""))
    klass.add_argument("name", nargs="?", default=None, help="lesson number or name (default: 05_sgd)")
    klass.add_argument("--students", type=int, default=30, metavar="N",
                       help="how many students will open it (sets the number of workers; default 30)")
    klass.add_argument("--workers", type=int, default=None, metavar="K", help="marimo workers (default: from "
                       "--students, 2 students per worker, at most two workers per core, as memory allows)")
    klass.add_argument("--host", default="0.0.0.0", help="address students connect to (default 0.0.0.0: all)")
    klass.add_argument("--port", type=int, default=8080, help="port students connect to (default 8080)")
    klass.add_argument("--run-dir", metavar="DIR", default=None,
                       help="where HAProxy's config and stats socket and the workers' logs go (default: a temp folder)")
    klass.add_argument("--session-ttl", type=int, default=30, metavar="S",
                       help="seconds a closed or reloaded tab's session is kept in case it reconnects (default 30)")
    klass.add_argument("--status-every", type=float, default=30.0, metavar="S",
                       help="seconds between the status lines that show the room: students and CPU and memory per "
                            "worker, restarts, slider times of the last minute (default 30; 0: none)")
    klass.add_argument("--stats-port", type=int, default=None, metavar="P",
                       help="port of HAProxy's statistics page, on 127.0.0.1 only (default: a free port, printed)")

    front = sub.add_parser(
        "front", help="the front door of a class on several machines (HAProxy before their `digitcore class`)",
        description="Deal students to several machines that each run `digitcore class`, keep each student on one "
                    "machine with a cookie (the machine's own cookie keeps them on one worker), and move the students "
                    "of a machine that stops to the others. Needs HAProxy. docs/class.md, 'Past one machine'.")
    front.add_argument("--machine", action="append", default=[], metavar="HOST:PORT", required=True,
                       help="a machine running `digitcore class` (repeat for each)")
    front.add_argument("--host", default="0.0.0.0", help="address students connect to (default 0.0.0.0: all)")
    front.add_argument("--port", type=int, default=80, help="port students connect to (default 80)")
    front.add_argument("--run-dir", metavar="DIR", default=None, help="where HAProxy's config, socket and log go")

    handout = sub.add_parser(
        "handout", help="write the course for students, without the answers",
        description="Write a copy of the course for students into DIR (a new or empty folder): the lessons, the "
                    "library, the public checks, the docs and dev.sh; not solutions/, checks/hidden/, tests/ (with its "
                    "corpus of correct variants), the benchmarks or anything else in this folder.")
    handout.add_argument("dir", metavar="DIR", help="where to write it, e.g. ../course-for-students")

    gradescope = sub.add_parser(
        "gradescope", help="write Gradescope's autograder bundle",
        description="Write the autograder bundle Gradescope asks for (upload the .zip as a programming assignment's "
                    "autograder): setup.sh, run_autograder, which grades a submission with the same sandboxed grader "
                    "and checks as class grading, hidden checks included, and writes results.json, and the digitcore "
                    "package and checks it runs. Never solutions/ or tests/. See docs/gradescope.md.")
    gradescope.add_argument("out", metavar="OUT", help="a new .zip (e.g. autograder.zip) or a new or empty folder")

    sweep = sub.add_parser(
        "sweep", help="train the linear model for many learning rates at once",
        description="Train the linear model (mnist_loss, SGD, shuffled batches) for every learning rate in --lrs in "
                    "one batched run: their weights side by side, one matrix product per batch. Each lr's result is "
                    "the run it would have had alone with the same seed. Prints final validation accuracy and loss "
                    "per lr, and the epoch where a run diverged.")
    _data_arg(sweep)
    sweep.add_argument("--lrs", metavar="A,B,...", default=None,
                       help="learning rates, comma-separated (default: the SGD lab's 17, 0.001 to 100000)")
    sweep.add_argument("--bs", type=int, default=256, metavar="N", help="batch size (default 256)")
    sweep.add_argument("--epochs", type=int, default=5, metavar="N", help="epochs (default 5)")
    sweep.add_argument("--json", action="store_true", help="print JSON: one object per lr (lr, accuracy, loss, "
                                                           "diverged_at)")
    return parser


def _print_reproduce(res: dict) -> None:
    print(f"data: {res['data']}")
    print(f"{'result':<34}{'book':>8}{'ours':>8}{'seconds':>10}")
    pix = res["pixel_similarity"]
    rows = [("pixel similarity: 3s", pix["book_threes"], pix["threes"], None),
            ("pixel similarity: 7s", pix["book_sevens"], pix["sevens"], None),
            ("pixel similarity: mean", pix["book"], pix["accuracy"], pix["seconds"]),
            ("linear, fit(10, lr=1)", res["linear"]["book"], res["linear"]["accuracy"], res["linear"]["seconds"]),
            ("simple_net, fit(40, lr=0.1)", res["simple_net"]["book"], res["simple_net"]["accuracy"],
             res["simple_net"]["seconds"])]
    if "resnet18" in res:
        r = res["resnet18"]
        rows.append(("resnet18, one-cycle, 1 epoch", r["book"], r["accuracy"], r["seconds"]))
    for name, book, ours, secs in rows:
        print(f"{name:<34}{book:>8.4f}{ours:>8.4f}{'' if secs is None else f'{secs:>10.2f}'}")


def _print_bench(res: dict) -> None:
    fa = f"fastai {res['fastai']}" if res["fastai"] else "fastai not installed here: compared with the book's loop only"
    print(f"torch {res['torch']}, {res['threads']} threads; {fa}; median of {res['repeat']} runs each")
    print(f"data: {res['data']}")
    print("ours is N x faster: by wall-clock seconds, and by CPU seconds (fairer when other programs share the cores)")
    print(f"{'run':<27}{'way':<13}{'seconds':>8}{'cpu s':>8}{'accuracy':>10}{'wall':>8}{'cpu':>8}")
    for which, label in (("linear", "linear, fit(10, lr=1)"), ("simple_net", "simple_net, fit(40, 0.1)")):
        row = res[which]
        for way in ("ours", "bare_loop", "book_loop", "fastai", "fastai_lean"):
            if way in row:
                r = row[way]
                ratios = ("", "") if way == "ours" else (f"{row[f'speedup_vs_{way}']:.1f}x",
                                                        f"{row[f'cpu_speedup_vs_{way}']:.1f}x")
                print(f"{label:<27}{way:<13}{r['seconds']:>8.2f}{r['cpu_seconds']:>8.2f}{r['accuracy']:>10.4f}"
                      f"{ratios[0]:>8}{ratios[1]:>8}")
                label = ""


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("lesson", "class"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "lesson":  # before importing .data (which imports torch): a wrong name is refused at once
        from .lesson_server import serve

        try:
            serve(args.name, edit=args.edit, marimo_args=extra, run_first=args.run_first)
        except KeyboardInterrupt:
            return 130
        return 0
    if args.command == "class":
        from .class_server import serve_class

        serve_class(args.name, args.students, workers=args.workers, host=args.host, port=args.port,
                    run_dir=args.run_dir, session_ttl=args.session_ttl, marimo_args=extra,
                    status_every=args.status_every, stats_port=args.stats_port)
        return 0
    if args.command == "front":
        from .class_server import serve_front

        serve_front(args.machine, host=args.host, port=args.port, run_dir=args.run_dir)
        return 0
    if args.command == "handout":  # needs neither torch nor the data
        from .handout import HandoutError, summary, write_handout

        try:
            print(summary(args.dir, write_handout(args.dir)))
        except HandoutError as e:
            print(f"digitcore handout: {e}", file=sys.stderr)
            return 2
        return 0
    if args.command == "gradescope":  # needs neither torch nor the data
        from .gradescope import BundleError, write_bundle

        try:
            files = write_bundle(args.out)
        except BundleError as e:
            print(f"digitcore gradescope: {e}", file=sys.stderr)
            return 2
        print(f"wrote Gradescope's autograder bundle to {args.out} ({len(files)} files; no solutions/ or tests/)")
        return 0
    from .data import DataError

    try:
        if args.command == "data":
            from . import data

            if args.action == "info":
                print(data.data_info(args.data))
            elif args.action == "download":
                print(f"MNIST is in {data.download(args.dest)}")
            else:
                parser.parse_args(["data", "--help"])
        elif args.command == "reproduce":
            from .reproduce import reproduce

            res = reproduce(args.data, deep=args.deep, seed=args.seed)
            print(json.dumps(res, indent=2)) if args.json else _print_reproduce(res)
        elif args.command == "bench":
            from .reproduce import bench

            res = bench(args.data, repeat=args.repeat)
            from . import sweep

            res["sweep"] = sweep.bench_sweep(args.data, repeat=args.repeat)
            print(json.dumps(res, indent=2)) if args.json else (_print_bench(res), print(sweep.bench_text(res["sweep"])))
        elif args.command == "sweep":
            from . import sweep

            return sweep.main(args.data, args.lrs, args.bs, args.epochs, args.json)
        else:
            parser.print_help()
    except DataError as e:
        print(f"digitcore: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
