"""``python -m openreel`` runs the command line."""

from openreel.cli import main

if __name__ == "__main__":
    main()
