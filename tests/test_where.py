"""``--where`` row filters: every operator, mixed types, missing values, unknown columns."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_file

from delvol.cli import main
from delvol.errors import DelvolError
from delvol.io import LoadOptions, load_points
from delvol.io.where import Condition, parse_condition, where_mask

COLUMNS = {
    "num": np.array([1.0, 2.0, np.nan, 4.0, 5.0]),
    "kind": np.array(["GALAXY", " STAR ", "", "GALAXY", "QSO"]),
    "n": np.array([3, 1, 4, 1, 5]),
    "mixed": np.array(["1.5", "abc", "", "10", "-2"]),
}


@pytest.mark.parametrize(
    ("clause", "rows"),
    [
        ("num=2", [1]),
        ("num!=2", [0, 3, 4]),  # the missing value passes no clause, != included
        ("num<4", [0, 1]),
        ("num<=4", [0, 1, 3]),
        ("num>4", [4]),
        ("num>=4", [3, 4]),
        ("kind=GALAXY", [0, 3]),
        ("kind=STAR", [1]),  # text is compared trimmed
        ("kind!=GALAXY", [1, 4]),  # blank text is missing
        ("n=1", [1, 3]),
        ("n>=3.5", [2, 4]),
        ("mixed>1", [0, 3]),  # text column, numeric comparison: only rows that read as numbers
        ("mixed<=1.5", [0, 4]),
        ("mixed=abc", [1]),
        ("NUM = 5", [4]),  # case-insensitive name, spaces around the operator
    ],
)
def test_each_operator(clause, rows):
    assert np.flatnonzero(where_mask(COLUMNS, [clause])).tolist() == rows


def test_clauses_combine_with_and():
    assert np.flatnonzero(where_mask(COLUMNS, ["kind=GALAXY", "num>1"])).tolist() == [3]


def test_parsing_takes_the_first_operator_and_never_evaluates():
    assert parse_condition("a>=b=c") == Condition("a", ">=", "b=c")
    assert parse_condition("x; DROP TABLE t; --=v;'") == Condition("x; DROP TABLE t; --", "=", "v;'")
    assert str(parse_condition("class = GALAXY")) == "class=GALAXY"
    for bad, fragment in [("ra", "expected COL=VALUE"), ("ra==1", "unknown operator '=='"), ("=1", "no column")]:
        with pytest.raises(ValueError, match=fragment):
            parse_condition(bad)
    mask = where_mask({"__import__('os')": np.array([1.0])}, ["__import__('os')=1"])
    assert mask.tolist() == [True]


def test_errors_name_the_column_and_list_the_others():
    with pytest.raises(DelvolError, match=r"no column 'colour'; the columns are 'num', 'kind', 'n', 'mixed'"):
        where_mask(COLUMNS, ["colour=red"])
    with pytest.raises(DelvolError, match="holds numbers, not 'red'"):
        where_mask(COLUMNS, ["num=red"])
    with pytest.raises(DelvolError, match="< compares numbers"):
        where_mask(COLUMNS, ["kind<GALAXY"])


def test_loaders_filter_tables_before_converting_and_arrays_on_xyz(tmp_path):
    csv = tmp_path / "sky.csv"
    rows = ["ra,dec,redshift,class", "10,5,0.05,GALAXY", "11,6,-0.001,STAR", "12,7,,STAR", "13,8,0.06,GALAXY"]
    rows += [f"{14 + i},{i},0.0{5 + i % 4},GALAXY" for i in range(4)]
    csv.write_text("\n".join(rows) + "\n")
    points = load_points(csv, LoadOptions(where=("class=GALAXY",)))
    # The STAR row with a blank redshift would be an error without the filter.
    assert len(points) == 6 and points.metadata["n_total"] == 8
    with pytest.raises(DelvolError, match="non-finite"):
        load_points(csv)
    with pytest.raises(DelvolError, match="no row passes --where class=QSO"):
        load_points(csv, LoadOptions(where=("class=QSO",)))

    array = tmp_path / "p.npy"
    np.save(array, np.arange(30.0).reshape(10, 3))
    points = load_points(array, LoadOptions(where=("x>=9", "z<27")))
    assert points.positions[:, 0].tolist() == [9.0, 12.0, 15.0, 18.0, 21.0, 24.0]  # z = x + 2
    assert points.metadata["n_total"] == 10
    with pytest.raises(DelvolError, match="the columns are 'x', 'y', 'z'"):
        load_points(array, LoadOptions(where=("mass>1",)))


def test_every_point_command_takes_where(tmp_path, capsys):
    array = tmp_path / "p.npy"
    np.save(array, np.random.default_rng(1).random((200, 3)))
    assert main(["info", str(array), "--where", "x<0.5", "--no-cache"]) == 0
    out = capsys.readouterr().out
    n = int(out.split("points")[1].split()[0].replace(",", ""))
    assert 70 < n < 130 and "of 200" in out
    assert main(["tessellate", str(array), "--where", "q<0.5", "-o", str(tmp_path / "t.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no column 'q'" in err
    assert not (tmp_path / "t.npz").exists()


@pytest.mark.real_data
def test_sdss_dr14_galaxies_only():
    path = shared_file("catalogs/sdss_dr14_skyserver_10k.csv")
    galaxies = load_points(path, LoadOptions(where=("class=GALAXY",)))
    assert len(galaxies) == 4998
    positive = load_points(path, LoadOptions(where=("class=GALAXY", "redshift>0")))
    assert 0 < len(positive) <= 4998
