"""`python -m intake` is the `intake` command."""

from intake.cli import main

if __name__ == "__main__":  # not when a judging process starts (it imports the main module by name)
    main()
