"""python -m actcore info | bench | accuracy | docs"""

import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv.pop(0) if argv else "info"
    if cmd == "info":
        import actcore

        actcore.show_config()
        return 0
    if cmd == "bench":
        from actcore import _bench

        return _bench.main(argv)
    if cmd == "docs":
        from pathlib import Path

        from actcore._docs import ops_markdown

        text = ops_markdown()
        if "--write" in argv:
            Path("docs").mkdir(exist_ok=True)
            Path("docs/ops.md").write_text(text)
        else:
            print(text)
        return 0
    if cmd == "accuracy":
        from actcore import _accuracy

        return _accuracy.main(argv)
    print("usage: python -m actcore {info,bench,accuracy,docs} [options]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
