import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/corpus.py, tests/numerics.py
sys.path.insert(0, str(ROOT / "examples"))

# Golden files are rewritten only on request: FLATGEN_UPDATE_GOLDENS=1 pytest tests/test_golden.py
UPDATE_GOLDENS = os.environ.get("FLATGEN_UPDATE_GOLDENS") == "1"
