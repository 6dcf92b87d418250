"""Child process for the native-runtime test: the real `memorial view --display openxr` path
(choose_display -> run_openxr_view with the real pyopenxr adapter) against whatever runtime
XR_RUNTIME_JSON names. Runs in its own process so the loader, GLX and Panda3D start fresh."""

import os
import sys

from tests.xr.conftest import TinyRoom
from vr_app.xr.display import choose_display, run_openxr_view


class CandleRoom(TinyRoom):
    """Selecting the candle lights it: it turns yellow."""

    def on_xr_event(self, event):
        if event.kind == "select" and event.value == "candle-1":
            self.candle.set_color(1, 1, 0, 1)
            print("candle lit", flush=True)


def main() -> int:
    display, reason = choose_display("auto")
    print(f"display {display}: {reason}", flush=True)
    if display != "openxr":
        return 3
    run_openxr_view(CandleRoom, frames=int(sys.argv[1]) if len(sys.argv) > 1 else 200, stats=True)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip Panda3D's global teardown, which can abort under Xvfb at exit
