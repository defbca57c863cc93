from isp_viewer.cli import main

raise SystemExit(main())
