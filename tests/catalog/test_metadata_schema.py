"""MetadataSchema: the seeds' rules, the encord SDK's semantics and its wire format."""

from __future__ import annotations

import json
from typing import Any

import pytest
from encord.metadata_schema import MetadataSchemaScalarType, _ClientMetadataSchema
from pydantic import ValidationError

from bucketdex.catalog.metadata_schema import MetadataSchema
from bucketdex.errors import MetadataSchemaError

TYPES = "boolean, datetime, number, uuid, varchar, text (aliases: string, long_string)"
KEY_RULE = "letters a-z A-Z, digits 0-9, space, '-', '_' and '.'"


def _wire_ok(document: dict[str, Any]) -> None:
    """The official SDK's own model accepts the document: we are wire compatible."""
    _ClientMetadataSchema.model_validate(document)


def _error(call: Any) -> str:
    with pytest.raises(MetadataSchemaError) as err:
        call()
    return str(err.value)


def test_seed_001_snippet(capsys: pytest.CaptureFixture[str]) -> None:
    saved: list[dict[str, Any]] = []
    metadata_schema = MetadataSchema(on_save=saved.append)
    metadata_schema.add_scalar("metadata_1", data_type="boolean")
    metadata_schema.add_scalar("metadata_2", data_type="datetime")
    metadata_schema.add_scalar("metadata_3", data_type="number")
    metadata_schema.add_scalar("metadata_4", data_type="uuid")
    metadata_schema.add_scalar("metadata_5", data_type="varchar")
    metadata_schema.add_scalar("metadata_6", data_type="text")
    metadata_schema.add_enum("my-enum", values=["enum-value-01", "enum-value-02", "enum-value-03"])
    metadata_schema.add_embedding("my-test-active-embedding", size=512)
    metadata_schema.add_embedding("my-test-index-embedding", size=4096)
    metadata_schema.save()
    print(metadata_schema)

    assert saved == [
        {
            "metadata_1": {"ty": "variant", "hint": "boolean"},
            "metadata_2": {"ty": "variant", "hint": "datetime"},
            "metadata_3": {"ty": "variant", "hint": "number"},
            "metadata_4": {"ty": "variant", "hint": "uuid"},
            "metadata_5": {"ty": "variant", "hint": "varchar"},
            "metadata_6": {"ty": "variant", "hint": "text"},
            "my-enum": {"ty": "enum", "values": ["enum-value-01", "enum-value-02", "enum-value-03"]},
            "my-test-active-embedding": {"ty": "embedding", "size": 512},
            "my-test-index-embedding": {"ty": "embedding", "size": 4096},
        }
    ]
    _wire_ok(saved[0])
    out = capsys.readouterr().out
    assert out.startswith("Metadata Schema:\n----------------\n")
    assert " - 'metadata_1':               scalar(hint=boolean)\n" in out  # padded like the SDK
    assert (
        "'my-enum':                  enum(values=['enum-value-01', 'enum-value-02', 'enum-value-03'])" in out
    )
    assert "'my-test-active-embedding': embedding(size=512)" in out
    assert "'my-test-index-embedding':  embedding(size=4096)" in out
    assert "Deleted" not in out


def test_document_round_trips_through_the_sdk_model() -> None:
    schema = MetadataSchema()
    schema.add_scalar("a", data_type="string")
    schema.add_enum("e", values=["y", "x"])
    schema.add_embedding("clip", size=8)
    schema.add_scalar("soft", data_type="number")
    schema.delete_key("soft")
    schema.add_embedding("hard", size=2)
    schema.delete_key("hard", hard=True)
    document = schema.to_document()
    model = _ClientMetadataSchema.model_validate(document)
    dumped = {k: v.model_dump(mode="json", exclude_none=True) for k, v in model.root.items()}
    assert dumped["e"] == document["e"] and dumped["clip"] == document["clip"]
    assert dumped["soft"] == {"ty": "tombstone", "deleted_ty": {"ty": "variant", "hint": "number"}}
    assert document["hard"] == {"ty": "tombstone", "deleted_ty": None}
    # and what the SDK dumps (defaults filled in) we read back unchanged
    sdk_document = {k: v.model_dump(mode="json") for k, v in model.root.items()}
    assert MetadataSchema.from_document(sdk_document).to_document() == sdk_document


def test_aliases_and_enum_members_as_data_type() -> None:
    schema = MetadataSchema()
    schema.add_scalar("s", data_type="string")
    schema.add_scalar("l", data_type="long_string")
    schema.add_scalar("n", data_type=MetadataSchemaScalarType.NUMBER)
    schema.add_scalar("v", data_type=MetadataSchemaScalarType("string"))
    assert schema.to_document() == {
        "s": {"ty": "variant", "hint": "varchar"},
        "l": {"ty": "variant", "hint": "text"},
        "n": {"ty": "variant", "hint": "number"},
        "v": {"ty": "variant", "hint": "varchar"},
    }


@pytest.mark.parametrize("data_type", ["integer", "Number", "STRING", "", None, 3])
def test_invalid_data_type_names_key_and_allowed_set(data_type: Any) -> None:
    message = _error(lambda: MetadataSchema().add_scalar("size", data_type=data_type))
    assert message == f"invalid data_type {data_type!r} for key 'size': expected one of {TYPES}"


@pytest.mark.parametrize("data_type", ["enum", "embedding"])
def test_enum_and_embedding_are_not_scalars(data_type: str) -> None:
    message = _error(lambda: MetadataSchema().add_scalar("k", data_type=data_type))
    assert "'k'" in message and f"add_{data_type}" in message and TYPES in message


def test_namespacing_and_case_sensitivity() -> None:
    schema = MetadataSchema()
    schema.add_scalar("team.video.description", data_type="varchar")
    schema.add_scalar("team.audio.description", data_type="text")
    schema.add_scalar("Transcript", data_type="text")
    schema.add_scalar("transcript", data_type="number")
    schema.add_scalar("with space-and_all.4", data_type="uuid")
    assert schema.get_key_type("team.video.description") == "varchar"
    assert schema.get_key_type("team.audio.description") == "text"
    assert (schema.get_key_type("Transcript"), schema.get_key_type("transcript")) == ("text", "number")
    assert schema.get_key_type("TRANSCRIPT") is None and not schema.has_key("TRANSCRIPT")
    assert schema.keys() == [
        "team.video.description",
        "team.audio.description",
        "Transcript",
        "transcript",
        "with space-and_all.4",
    ]


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("a/b", KEY_RULE),
        ("x\ty", KEY_RULE),
        ("café", KEY_RULE),  # ASCII letters only (the SDK's isalnum() would let it through)
        ("١٢", KEY_RULE),  # non-ASCII digits
        ("", "non-empty string"),
        ("$encord", "starting with '$' are reserved"),
        ("   ", "at least one letter or digit"),
        ("-._", "at least one letter or digit"),
        ("keyframes", "'keyframes' is reserved"),
        ("key_frames", "'keyframes' is reserved"),  # the SDK ignores separators here too
    ],
)
def test_invalid_keys_name_the_key_and_the_rule(key: str, why: str) -> None:
    for call in (
        lambda: MetadataSchema().add_scalar(key, data_type="text"),
        lambda: MetadataSchema().add_enum(key, values=["a"]),
        lambda: MetadataSchema().add_embedding(key, size=2),
        lambda: MetadataSchema.from_document({key: {"ty": "variant", "hint": "text"}}),
    ):
        message = _error(call)
        assert message.startswith(f"invalid metadata key {key!r}: ") and why in message


def test_non_string_key_is_refused() -> None:
    assert "non-empty string" in _error(lambda: MetadataSchema.from_document({1: {"ty": "text"}}))


def test_set_scalar_changes_the_type_of_scalars_only() -> None:
    schema = MetadataSchema()
    for n in (1, 2, 3):
        schema.add_scalar(f"metadata_{n}", data_type="varchar")
    schema.set_scalar("metadata_1", data_type="number")  # the seed 002 example
    schema.set_scalar("metadata_2", data_type="boolean")
    schema.add_scalar("metadata_3", data_type="boolean")  # add_scalar over a scalar: same thing
    assert [schema.get_key_type(f"metadata_{n}") for n in (1, 2, 3)] == ["number", "boolean", "boolean"]
    schema.add_enum("Fruit", values=["apple"])
    schema.add_embedding("clip", size=3)
    assert _error(lambda: schema.set_scalar("Fruit", data_type="text")) == (
        "'Fruit' is already defined as enum; use set_scalar only on scalar keys (created by add_scalar)"
    )
    assert "'clip' is already defined as embedding" in _error(
        lambda: schema.add_scalar("clip", data_type="text")
    )


def test_older_scalar_shapes_are_read_but_not_replaced_like_the_sdk() -> None:
    schema = MetadataSchema({"n": {"ty": "number"}, "v": {"ty": "varchar", "max_length": 20}})
    assert (schema.get_key_type("n"), schema.get_key_type("v")) == ("number", "varchar")
    message = _error(lambda: schema.set_scalar("n", data_type="text"))
    assert "'n'" in message and "{'ty': 'number'}" in message


def test_add_enum_sorts_and_rejects_bad_values() -> None:
    schema = MetadataSchema()
    schema.add_enum("Fruit", values=("pear", "apple"))
    assert schema.to_document()["Fruit"] == {"ty": "enum", "values": ["apple", "pear"]}
    schema.add_enum("max", values=[f"v{i:03}" for i in range(255)])
    assert len(schema.get_enum_options("max")) == 255
    assert (
        _error(lambda: schema.add_enum("Empty", values=[]))
        == "enum 'Empty' needs at least 1 value (1 to 255)"
    )
    assert "enum 'Huge' would have 256 values; the limit is 255" in _error(
        lambda: schema.add_enum("Huge", values=[str(i) for i in range(256)])
    )
    assert "enum 'Dup' would list 'a' twice" in _error(lambda: schema.add_enum("Dup", values=["a", "b", "a"]))
    assert "must be a list of strings, got 'abc'" in _error(lambda: schema.add_enum("S", values="abc"))
    assert "'S' must be a list of strings" in _error(lambda: schema.add_enum("S", values=["a", 1]))
    assert not schema.has_key("Empty") and not schema.has_key("Dup") and not schema.has_key("S")


def test_enum_options_only_grow() -> None:
    schema = MetadataSchema()
    schema.add_enum("Fruit", values=["pear", "apple"])
    schema.add_enum_options("Fruit", values=["fig", "banana"])
    assert schema.get_enum_options("Fruit") == ["apple", "banana", "fig", "pear"]
    # options cannot be removed: there is no API for it, and add_enum cannot redefine the key
    assert not hasattr(schema, "delete_enum_options") and not hasattr(schema, "remove_enum_options")
    assert _error(lambda: schema.add_enum("Fruit", values=["apple"])) == (
        "'Fruit' is already defined as enum; add values with add_enum_options (enum values can never be removed)"
    )
    assert "enum 'Fruit' would list 'fig' twice" in _error(
        lambda: schema.add_enum_options("Fruit", values=["fig"])
    )
    assert "needs at least 1 value" in _error(lambda: schema.add_enum_options("Fruit", values=[]))
    assert "would have 256 values; the limit is 255" in _error(
        lambda: schema.add_enum_options("Fruit", values=[f"x{i}" for i in range(252)])
    )
    assert schema.get_enum_options("Fruit") == ["apple", "banana", "fig", "pear"]


def test_add_enum_options_needs_an_enum() -> None:
    schema = MetadataSchema()
    schema.add_scalar("n", data_type="number")
    assert _error(lambda: schema.add_enum_options("n", values=["a"])) == (
        "'n' is defined as number, not an enum; add_enum_options works only on enum keys"
    )
    assert "'nope' is not defined in the metadata schema" in _error(
        lambda: schema.add_enum_options("nope", values=["a"])
    )


def test_add_embedding_and_its_size_range() -> None:
    schema = MetadataSchema()
    schema.add_embedding("one", size=1)
    schema.add_embedding("max", size=4096)
    assert (schema.get_embedding_size("one"), schema.get_embedding_size("max")) == (1, 4096)
    assert schema.get_key_type("max") == "embedding"


@pytest.mark.parametrize("size", [0, -1, 4097, True, False, 2.5, 512.0, "512", None])
def test_embedding_size_out_of_range_names_key_and_range(size: Any) -> None:
    message = _error(lambda: MetadataSchema().add_embedding("clip", size=size))
    assert message == f"invalid embedding size {size!r} for key 'clip': expected an integer from 1 to 4096"


def test_adding_an_existing_key_errors_like_the_sdk() -> None:
    schema = MetadataSchema()
    schema.add_scalar("n", data_type="number")
    schema.add_embedding("clip", size=4)
    assert _error(lambda: schema.add_enum("n", values=["a"])) == (
        "'n' is already defined as number; choose another key for the enum"
    )
    assert _error(lambda: schema.add_embedding("clip", size=4)) == (
        "'clip' is already defined as embedding; choose another key for the embedding"
    )


def test_soft_delete_then_restore() -> None:
    schema = MetadataSchema()
    schema.add_enum("Fruit", values=["apple", "pear"])
    schema.delete_key("Fruit")
    assert schema.to_document()["Fruit"] == {
        "ty": "tombstone",
        "deleted_ty": {"ty": "enum", "values": ["apple", "pear"]},
    }
    _wire_ok(schema.to_document())
    assert schema.is_key_deleted("Fruit") and schema.has_key("Fruit") and schema.keys().count("Fruit") == 1
    assert schema.get_key_type("Fruit") is None
    assert (
        _error(lambda: schema.delete_key("Fruit"))
        == "'Fruit' is already deleted (restorable with restore_key)"
    )
    assert "'Fruit' is deleted (restorable with restore_key), not an enum" in _error(
        lambda: schema.get_enum_options("Fruit")
    )
    assert "'Fruit' is deleted" in _error(lambda: schema.add_enum("Fruit", values=["x"]))
    assert "cannot become a scalar" in _error(lambda: schema.add_scalar("Fruit", data_type="text"))
    schema.restore_key("Fruit")
    assert schema.get_enum_options("Fruit") == ["apple", "pear"] and not schema.is_key_deleted("Fruit")
    assert _error(lambda: schema.restore_key("Fruit")) == (
        "'Fruit' is not deleted (it is defined as enum); only soft-deleted keys can be restored"
    )


def test_add_scalar_recreates_a_soft_deleted_scalar_like_the_sdk() -> None:
    schema = MetadataSchema()
    schema.add_scalar("Fruit", data_type="varchar")
    schema.delete_key("Fruit")
    schema.add_scalar("Fruit", data_type="number")
    assert schema.to_document()["Fruit"] == {"ty": "variant", "hint": "number"}


def test_hard_delete_is_final() -> None:
    schema = MetadataSchema()
    schema.add_scalar("Fruit", data_type="varchar")
    schema.delete_key("Fruit", hard=True)
    assert schema.to_document() == {"Fruit": {"ty": "tombstone", "deleted_ty": None}}
    _wire_ok(schema.to_document())
    assert schema.is_key_deleted("Fruit")
    assert _error(lambda: schema.restore_key("Fruit")) == "'Fruit' was hard deleted and cannot be restored"
    assert "'Fruit' was hard deleted; the key cannot be used again" in _error(
        lambda: schema.add_scalar("Fruit", data_type="varchar")
    )
    assert "'Fruit' is hard deleted; choose another key" in _error(
        lambda: schema.add_embedding("Fruit", size=2)
    )
    assert _error(lambda: schema.delete_key("Fruit")) == "'Fruit' is already hard deleted"
    assert _error(lambda: schema.delete_key("Fruit", hard=True)) == "'Fruit' is already hard deleted"


def test_a_soft_deleted_key_can_be_hard_deleted_only_by_restoring_first() -> None:
    schema = MetadataSchema({"k": {"ty": "tombstone", "deleted_ty": {"ty": "variant", "hint": "text"}}})
    assert "already deleted" in _error(lambda: schema.delete_key("k", hard=True))
    schema.restore_key("k")
    schema.delete_key("k", hard=True)
    assert schema.to_document()["k"] == {"ty": "tombstone", "deleted_ty": None}


def test_unknown_keys_name_the_key_and_suggest() -> None:
    schema = MetadataSchema({"Fruit": {"ty": "variant", "hint": "text"}})
    assert _error(lambda: schema.delete_key("fruit")) == (
        "'fruit' is not defined in the metadata schema; did you mean 'Fruit'?"
    )
    assert _error(lambda: schema.restore_key("zzz")) == (
        "'zzz' is not defined in the metadata schema (keys are case sensitive)"
    )
    assert "'zzz' is not defined" in _error(lambda: schema.get_embedding_size("zzz"))
    assert "'zzz' is not defined" in _error(lambda: schema.get_enum_options("zzz"))


def test_readers() -> None:
    schema = MetadataSchema(
        {
            "s": {"ty": "variant", "hint": "varchar"},
            "default": {"ty": "variant"},  # the SDK model's default hint is text
            "legacy": {"ty": "variant", "hint": "long_string"},
            "e": {"ty": "enum", "values": ["b", "a"]},
            "clip": {"ty": "embedding", "size": 16},
            "where": {"ty": "geospatial"},
            "who": {"ty": "user"},
            "gone": {"ty": "tombstone", "deleted_ty": None},
        }
    )
    assert list(map(schema.get_key_type, schema.keys())) == [
        "varchar", "text", "text", "enum", "embedding", "geospatial", "user", None,
    ]  # fmt: skip
    assert schema.get_key_type("missing") is None
    assert schema.has_key("gone") and not schema.has_key("missing")
    assert schema.is_key_deleted("gone") and not schema.is_key_deleted("s") and not schema.is_key_deleted("x")
    assert schema.get_enum_options("e") == ["a", "b"]
    assert schema.get_embedding_size("clip") == 16
    assert _error(lambda: schema.get_embedding_size("e")) == "'e' is defined as enum, not an embedding"
    assert _error(lambda: schema.get_enum_options("clip")) == "'clip' is defined as embedding, not an enum"
    assert "'gone' is hard deleted, not an embedding" in _error(lambda: schema.get_embedding_size("gone"))
    assert set(schema.live_options()) == {"s", "default", "legacy", "e", "clip", "where", "who"}


def test_save_calls_on_save_only_when_dirty_with_the_wire_document() -> None:
    calls: list[dict[str, Any]] = []
    schema = MetadataSchema({"k": {"ty": "variant", "hint": "text"}}, on_save=calls.append)
    assert not schema.dirty
    schema.save()
    assert calls == []
    with pytest.raises(MetadataSchemaError):
        schema.add_scalar("k", data_type="nope")
    assert not schema.dirty  # a failed edit changes nothing
    schema.add_scalar("n", data_type="number")
    assert schema.dirty
    schema.save()
    schema.save()
    assert calls == [{"k": {"ty": "variant", "hint": "text"}, "n": {"ty": "variant", "hint": "number"}}]
    assert not schema.dirty
    calls[0]["k"]["hint"] = "mutated"  # on_save got a copy
    assert schema.get_key_type("k") == "text"


def test_save_without_on_save_just_clears_dirty() -> None:
    schema = MetadataSchema()
    schema.add_scalar("k", data_type="text")
    schema.save()
    assert not schema.dirty


def test_documents_are_copied_in_and_out() -> None:
    document = {"e": {"ty": "enum", "values": ["a"]}}
    schema = MetadataSchema(document)
    document["e"]["values"].append("b")
    out = schema.to_document()
    out["e"]["values"].append("c")
    assert schema.get_enum_options("e") == ["a"]


def test_repr_is_json_sorted_by_key_like_the_sdk() -> None:
    schema = MetadataSchema()
    schema.add_scalar("b", data_type="number")
    schema.add_embedding("a", size=2)
    assert json.loads(repr(schema)) == schema.to_document()
    assert repr(schema) == '{"a": {"ty": "embedding", "size": 2}, "b": {"ty": "variant", "hint": "number"}}'


def test_str_lists_live_keys_then_restorable_ones() -> None:
    schema = MetadataSchema()
    schema.add_scalar("n", data_type="number")
    schema.add_enum("weather", values=["sunny", "rainy"])
    schema.add_embedding("clip", size=512)
    schema.add_scalar("Fruit", data_type="varchar")
    schema.delete_key("Fruit")
    schema.add_scalar("gone", data_type="text")
    schema.delete_key("gone", hard=True)
    assert str(schema) == (
        "Metadata Schema:\n"
        "----------------\n"
        " - 'clip':    embedding(size=512)\n"
        " - 'n':       scalar(hint=number)\n"
        " - 'weather': enum(values=['rainy', 'sunny'])\n"
        "\n"
        "Deleted (restorable with restore_key):\n"
        " - 'Fruit':   scalar(hint=varchar)\n"
    )
    assert str(MetadataSchema()) == "Metadata Schema:\n----------------\n"


def test_from_document_accepts_every_shape_the_sdk_model_accepts() -> None:
    document = {
        "v": {"ty": "variant", "hint": "uuid"},
        "n": {"ty": "number", "format": "F32"},
        "vc": {"ty": "varchar", "max_length": 10},
        "b": {"ty": "boolean"},
        "d": {"ty": "datetime", "timezone": "UTC"},
        "t": {"ty": "text"},
        "u": {"ty": "uuid"},
        "who": {"ty": "user"},
        "geo": {"ty": "geospatial"},
        "e": {"ty": "enum", "values": ["a", "a"]},  # the SDK's add_enum does not refuse duplicates
        "emb": {"ty": "embedding", "size": 3, "api": None},
        "t1": {"ty": "tombstone", "deleted_ty": {"ty": "embedding", "size": 3}},
        "t2": {"ty": "tombstone", "deleted_ty": None},
        "t3": {"ty": "tombstone"},
    }
    _wire_ok(document)
    assert MetadataSchema.from_document(document).to_document() == document  # nothing normalised


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"x": {"ty": "embedding", "size": 0}}, "schema['x'].size must be an integer from 1 to 4096, got 0"),
        ({"x": {"ty": "embedding", "size": 4097}}, "schema['x'].size must be an integer from 1 to 4096"),
        ({"x": {"ty": "embedding"}}, "schema['x'].size must be an integer from 1 to 4096, got None"),
        ({"x": {"ty": "embedding", "size": 3, "api": 1}}, "schema['x'].api must be an object or null"),
        (
            {"y": {"ty": "variant", "hint": "integer"}},
            f"schema['y'].hint must be one of {TYPES}, got 'integer'",
        ),
        ({"e": {"ty": "enum", "values": []}}, "schema['e'].values must be a list of 1 to 256 strings"),
        ({"e": {"ty": "enum", "values": [1]}}, "schema['e'].values must be a list of 1 to 256 strings"),
        ({"e": {"ty": "enum", "values": [str(i) for i in range(257)]}}, "schema['e'].values"),
        ({"n": {"ty": "number", "format": "F16"}}, "schema['n'].format must be one of F32, F64, got 'F16'"),
        ({"d": {"ty": "datetime", "timezone": "CET"}}, "schema['d'].timezone must be one of UTC"),
        (
            {"s": {"ty": "varchar", "max_length": 9000}},
            "schema['s'].max_length must be an integer from 0 to 8192",
        ),
        ({"z": {"ty": "matrix"}}, "schema['z'].ty 'matrix' is not a known option type; expected one of"),
        ({"z": {"hint": "text"}}, "schema['z'] must be an object with a string 'ty' field"),
        ({"z": "text"}, "schema['z'] must be an object with a string 'ty' field, got 'text'"),
        (
            {"t": {"ty": "tombstone", "deleted_ty": {"ty": "embedding", "size": -1}}},
            "schema['t'].deleted_ty.size must be an integer from 1 to 4096",
        ),
        (
            {"t": {"ty": "tombstone", "deleted_ty": {"ty": "tombstone", "deleted_ty": None}}},
            "schema['t'].deleted_ty.ty 'tombstone' is not a known option type",
        ),
    ],
)
def test_from_document_refuses_what_the_sdk_model_refuses_naming_the_path(
    document: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationError):
        _ClientMetadataSchema.model_validate(document)
    assert path in _error(lambda: MetadataSchema.from_document(document))


def test_from_document_refuses_an_enum_without_values_which_the_sdk_model_would_default() -> None:
    _wire_ok({"e": {"ty": "enum"}})  # pydantic does not validate the default []: min_length=1 unchecked
    message = _error(lambda: MetadataSchema.from_document({"e": {"ty": "enum"}}))
    assert message == "schema['e'].values must be a list of 1 to 256 strings"


@pytest.mark.parametrize("document", [[], "schema", None, 3])
def test_from_document_needs_an_object(document: Any) -> None:
    assert "must be a JSON object of key -> option" in _error(lambda: MetadataSchema.from_document(document))


def test_constructor_trusts_stored_documents_and_defaults_to_empty() -> None:
    assert MetadataSchema().keys() == [] and MetadataSchema(None).to_document() == {}
