"""``python -m runninghub``: the same entry point as the ``runninghub`` command."""

from runninghub.cli.main import main

if __name__ == "__main__":
    main()
