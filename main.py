"""Start ISP Viewer: `python main.py [FILES...]` (no files: the bundled demo)."""

from isp_viewer.cli import main

raise SystemExit(main())
