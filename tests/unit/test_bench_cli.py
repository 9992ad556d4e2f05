"""`onthedot bench spike` finds the checkout's bench/ or says what to do."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from onthedot.bench_cli import bench_app, find_checkout

ROOT = Path(__file__).resolve().parents[2]


def test_finds_this_checkout_from_the_repository_or_its_bench_dir() -> None:
    assert find_checkout(ROOT) == ROOT
    assert find_checkout(ROOT / "bench") == ROOT


def test_a_directory_without_bench_is_no_checkout(tmp_path: Path) -> None:
    assert find_checkout(tmp_path) is None


def test_the_command_says_what_to_do_without_a_checkout(tmp_path: Path) -> None:
    result = CliRunner().invoke(bench_app, ["spike", "--bench-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "source checkout" in result.output
    assert "--bench-dir" in result.output
