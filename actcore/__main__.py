"""python -m actcore info | bench | accuracy"""

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
    if cmd == "accuracy":
        from actcore import _accuracy

        return _accuracy.main(argv)
    print("usage: python -m actcore {info,bench,accuracy} [options]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
