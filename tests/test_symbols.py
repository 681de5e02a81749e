import pandas as pd
import pytest

from workbench.errors import DataError
from workbench.symbols import Board, board_of, boards_of, normalize_symbol, normalize_symbols


@pytest.mark.parametrize("raw", ["sh600000", "sh.600000", "SH600000", "600000.SH", "600000",
                                 "600000.sh", " sh.600000 "])
def test_every_spelling_of_one_stock_is_the_same(raw):
    assert normalize_symbol(raw) == "600000.SH"


@pytest.mark.parametrize(
    ("raw", "expected", "board"),
    [
        ("000001", "000001.SZ", Board.SZ_MAIN),
        ("sz002594", "002594.SZ", Board.SZ_MAIN),
        ("300750", "300750.SZ", Board.CHINEXT),
        ("688981.SH", "688981.SH", Board.STAR),
        ("830799.BJ", "830799.BJ", Board.BSE),
        ("bj.430047", "430047.BJ", Board.BSE),
        ("920001", "920001.BJ", Board.BSE),
        (1, "000001.SZ", Board.SZ_MAIN),
    ],
)
def test_codes_map_to_exchange_and_board(raw, expected, board):
    assert normalize_symbol(raw) == expected
    assert board_of(expected) == board


@pytest.mark.parametrize("raw", ["900901", "200002.SZ", "60000", "ABCDEF", "", "sh.1234567"])
def test_non_a_share_codes_are_rejected(raw):
    with pytest.raises(DataError, match="A-share"):
        normalize_symbol(raw)


def test_exchange_that_contradicts_the_code_is_rejected():
    with pytest.raises(DataError, match="trades on SH, not SZ"):
        normalize_symbol("600000.SZ")


def test_vectorised_normalisation_names_the_bad_row():
    s = pd.Series(["sh.600000", "sz000001", "999999"], index=[10, 11, 12])
    with pytest.raises(DataError, match="row 12"):
        normalize_symbols(s)
    assert normalize_symbols(s.iloc[:2]).tolist() == ["600000.SH", "000001.SZ"]


def test_boards_of_is_vectorised():
    assert list(boards_of(["600000.SH", "688001.SH", "600000.SH"])) == [
        Board.SH_MAIN, Board.STAR, Board.SH_MAIN]
