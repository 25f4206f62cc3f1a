import polars as pl

from crm_pipeline.contacts.normalize import countries
from crm_pipeline.contacts.normalize.text import compact_key


def test_codes_names_and_aliases_map_to_alpha2():
    raw = pl.Series(
        [
            "UK",
            "USA",
            "England",
            "Deutschland",
            "de",
            "DEU",
            "Germany",
            "Allemagne",
            "Alemania",
            "U.S.A.",
            "Österreich",
            "Vereinigtes Königreich",
            "Côte d’Ivoire",
            "中国",
            " fr ",
        ]
    )
    assert countries.normalize(raw)["country"].to_list() == [
        "GB",
        "US",
        "GB",
        "DE",
        "DE",
        "DE",
        "DE",
        "DE",
        "DE",
        "US",
        "AT",
        "GB",
        "CI",
        "CN",
        "FR",
    ]


def test_unknown_country_is_flagged_with_its_original():
    out = countries.normalize(pl.Series(["Narnia", "", None]))
    assert out.rows() == [
        (None, "Narnia", "unknown_country"),
        (None, None, None),
        (None, None, None),
    ]


def test_reference_file_never_maps_one_name_to_two_countries():
    names = pl.read_csv(countries.COUNTRIES_FILE, schema={"name": pl.String, "alpha2": pl.String})
    keyed = names.with_columns(compact_key(names["name"]).alias("key"))
    clashes = (
        keyed.group_by("key").agg(pl.col("alpha2").n_unique().alias("n")).filter(pl.col("n") > 1)
    )
    assert clashes.is_empty(), clashes
    assert len(countries.country_codes()) >= 249


def test_no_name_in_the_reference_file_is_another_country_code():
    names = pl.read_csv(countries.COUNTRIES_FILE, schema={"name": pl.String, "alpha2": pl.String})
    keys = compact_key(names["name"]).str.to_uppercase()
    shadowed = names.filter(keys.is_in(list(countries.country_codes())) & (keys != names["alpha2"]))
    assert shadowed.is_empty(), shadowed
