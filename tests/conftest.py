import sys
from pathlib import Path

# cases.py, parity.py and oracle.py are helpers shared by the test files and the golden script
sys.path.insert(0, str(Path(__file__).resolve().parent))
