import sys
from pathlib import Path

# cases.py, parity.py and oracle.py are helpers shared by the test files and the golden script
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_terminal_summary(terminalreporter):
    """The module_db table, where the session ran the live module_db suite (tests/test_module_db.py)."""
    module_db = sys.modules.get("module_db")
    if module_db is not None and module_db.RESULTS:
        terminalreporter.write_sep("-", "PyTorch module_db samples through nnspec")
        terminalreporter.write_line(module_db.table(module_db.RESULTS))
