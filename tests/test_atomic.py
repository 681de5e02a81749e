import pytest

from workbench.atomic import atomic_folder, atomic_write_bytes, atomic_write_text


def test_a_failed_folder_write_keeps_the_old_folder(tmp_path):
    with atomic_folder(tmp_path / "out") as tmp:
        (tmp / "report.html").write_text("good")
    with pytest.raises(RuntimeError), atomic_folder(tmp_path / "out") as tmp:
        (tmp / "report.html").write_text("half")
        raise RuntimeError("kernel died")
    assert (tmp_path / "out" / "report.html").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_write_replaces_the_old_one_whole(tmp_path):
    with atomic_folder(tmp_path / "out") as tmp:
        (tmp / "old.txt").write_text("x")
    with atomic_folder(tmp_path / "out") as tmp:
        (tmp / "new.txt").write_text("y")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["new.txt"]


def test_atomic_text_write_leaves_no_temp_file_on_failure(tmp_path):
    target = atomic_write_text(tmp_path / "index.html", "v1")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]  # fails mid-write
    assert target.read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_results_get_ordinary_permissions_not_private_temp_ones(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        f = atomic_write_text(tmp_path / "r.html", "x")
        with atomic_folder(tmp_path / "d") as tmp:
            (tmp / "a").write_text("y")
    finally:
        os.umask(mask)
    assert f.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
