"""A test app that writes numbered lines to log files and rotates them (run as a process).

``python writer.py DIR NAMES COUNT ROTATE_EVERY METHOD [LATE] [PAUSE_EVERY]``: for each name
writes ``NAME 00000000 xxx...`` lines 0..COUNT-1 to ``DIR/NAME.log`` (round robin over the
names), rotating every ROTATE_EVERY lines of a file with METHOD ``rename`` (to ``NAME.log.N``,
N counting up, never deleted; LATE more lines go to the renamed file before the new one is
opened) or ``copytruncate`` (copy then truncate, like logrotate's). Each line is flushed as it
is written. Sleeps 1 ms every PAUSE_EVERY lines so readers get to run, and ROTATE_PAUSE seconds
after each rotation (``... PAUSE_EVERY ROTATE_PAUSE``).
"""

from __future__ import annotations

import os
import shutil
import sys
import time

PAD = "x" * 180


def main() -> None:
    directory, names_arg, count_arg, every_arg, method = sys.argv[1:6]
    late = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    pause_every = int(sys.argv[7]) if len(sys.argv) > 7 else 200
    rotate_pause = float(sys.argv[8]) if len(sys.argv) > 8 else 0.0
    names = names_arg.split(",")
    count, every = int(count_arg), int(every_arg)
    paths = {name: os.path.join(directory, f"{name}.log") for name in names}
    handles = {name: open(paths[name], "a", buffering=1, encoding="utf-8") for name in names}
    generation = dict.fromkeys(names, 0)
    index = dict.fromkeys(names, 0)
    late_left = dict.fromkeys(names, -1)
    written = 0
    while any(index[name] < count for name in names):
        for name in names:
            if index[name] >= count:
                continue
            handles[name].write(f"{name} {index[name]:08d} {PAD}\n")
            index[name] += 1
            written += 1
            if written % pause_every == 0:
                time.sleep(0.001)
            if late_left[name] > 0:
                late_left[name] -= 1
            if late_left[name] == 0:
                # the writer noticed the rotation at last: new lines go to the new file
                late_left[name] = -1
                handles[name].close()
                handles[name] = open(paths[name], "a", buffering=1, encoding="utf-8")
            if every and index[name] % every == 0 and index[name] < count:
                generation[name] += 1
                rotated = f"{paths[name]}.{generation[name]}"
                if method == "rename":
                    os.rename(paths[name], rotated)
                    if late:
                        late_left[name] = late  # keeps writing to the renamed file for a while
                    else:
                        handles[name].close()
                        handles[name] = open(paths[name], "a", buffering=1, encoding="utf-8")
                else:
                    handles[name].flush()
                    shutil.copyfile(paths[name], rotated)
                    os.truncate(paths[name], 0)
                time.sleep(rotate_pause)
    for handle in handles.values():
        handle.close()


if __name__ == "__main__":
    main()
