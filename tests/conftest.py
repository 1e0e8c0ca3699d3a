import sys
from pathlib import Path

import pytest

# cases.py, parity.py and oracle.py are helpers shared by the test files and the golden script
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_terminal_summary(terminalreporter):
    """The module_db table, where the session ran the live module_db suite (tests/test_module_db.py)."""
    module_db = sys.modules.get("module_db")
    if module_db is not None and module_db.RESULTS:
        terminalreporter.write_sep("-", "PyTorch module_db samples through nnspec")
        terminalreporter.write_line(module_db.table(module_db.RESULTS))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """tests/test_references.py builds each zoo model's reference (and nnspec's model) once for all the tests
    of that model: run them model by model, each model's in the order of the file. pytest groups tests by a
    module-scoped fixture's parameter, but interleaves the test functions within a group."""
    slots = [i for i, item in enumerate(items) if item.path.name == "test_references.py"]
    first: dict[str, int] = {}
    for i in slots:
        first.setdefault(_reference_of(items[i]), i)
    ordered = sorted((items[i] for i in slots),
                     key=lambda item: (first[_reference_of(item)], item.reportinfo()[1], item.name))
    for i, item in zip(slots, ordered):
        items[i] = item


def _reference_of(item) -> str:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return next((v.name for v in params.values() if type(v).__name__ == "Reference"), "")
