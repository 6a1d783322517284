"""A main module (`python -m tests.reading_main`) that starts two reading processes.

Each run of this module's code adds a line to the file named by READING_MAIN_LOG: once in the
parent, once in the fork server, and once more in every reading process that ran it again.
"""

import os
import sys

with open(os.environ["READING_MAIN_LOG"], "a") as log:
    log.write(f"{os.getpid()}\n")

if __name__ == "__main__":
    from webapp.imports.sandbox import reading_context

    context = reading_context(sys.argv[1])
    for _ in range(2):
        process = context.Process(target=os.getpid)
        process.start()
        process.join(60)
        assert process.exitcode == 0, process.exitcode
