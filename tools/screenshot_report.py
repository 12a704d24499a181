#!/usr/bin/env python3
"""Screenshot a report.html in headless Chromium, to look at it (and for the README).

    .venv/bin/python -m tools.screenshot_report reports/report.html docs/report-screenshot.png
        [--width 1280] [--height 2000] [--max-kb 400]

Chromium runs with no network services and a throwaway profile; the page
itself forbids every fetch (Content-Security-Policy). A PNG over ``--max-kb`` is
reduced to a palette image, and scaled down if needed, until it fits.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def screenshot(html: Path, out: Path, width: int, height: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        sys.exit("no chromium on PATH (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={out}",
            f"--window-size={width},{height}",
            html.resolve().as_uri(),
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def shrink(path: Path, max_kb: int) -> None:
    """Kept as is when small enough; else a 256-colour palette PNG (octree keeps the few verdict colours
    apart, median cut merged amber into red), then smaller scales."""
    if path.stat().st_size <= max_kb * 1024:
        return
    image = Image.open(path).convert("RGB")
    scale = 1.0
    while True:
        sized = (
            image
            if scale == 1.0
            else image.resize((int(image.width * scale), int(image.height * scale)), Image.LANCZOS)
        )
        sized.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)
        if path.stat().st_size <= max_kb * 1024 or scale < 0.3:
            return
        scale *= 0.85


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2000)
    parser.add_argument("--max-kb", type=int, default=400)
    args = parser.parse_args()
    args.png.parent.mkdir(parents=True, exist_ok=True)
    screenshot(args.html, args.png, args.width, args.height)
    shrink(args.png, args.max_kb)
    print(f"{args.png}: {args.png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
