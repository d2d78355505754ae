from harness.spec.yamlfile import load_yaml_text


def test_values_keep_the_line_they_were_written_on() -> None:
    loaded = load_yaml_text("a: 1\nb:\n  - x\n  - {c: 2}\n", "f.yaml")
    assert loaded.data == {"a": 1, "b": ["x", {"c": 2}]}
    assert loaded.line_of(("b", 1, "c")) == 4
    assert loaded.line_of(("b", 0)) == 3


def test_a_missing_path_falls_back_to_its_nearest_ancestor_line() -> None:
    loaded = load_yaml_text("a:\n  b: 1\n", "f.yaml")
    assert loaded.line_of(("a", "zzz", 3)) == 2 or loaded.line_of(("a", "zzz", 3)) == 1


def test_duplicate_keys_and_non_json_scalars_are_each_reported_with_their_line() -> None:
    loaded = load_yaml_text("a: 1\nd: 2020-01-01\na: 2\n", "f.yaml")
    assert [str(p) for p in loaded.problems] == [
        "f.yaml:2: value '2020-01-01' is not plain JSON data (YAML tag tag:yaml.org,2002:timestamp); quote it",
        "f.yaml:3: duplicate key 'a'",
    ]


def test_yaml_syntax_errors_name_the_line() -> None:
    loaded = load_yaml_text("a: [1,\nb: 2\n", "f.yaml")
    assert len(loaded.problems) == 1
    assert loaded.problems[0].line >= 2
    assert "YAML syntax" in loaded.problems[0].message


def test_python_object_tags_are_refused_not_constructed() -> None:
    loaded = load_yaml_text("a: !!python/object/apply:os.system ['echo hi']\n", "f.yaml")
    assert [str(p) for p in loaded.problems] == [
        "f.yaml:1: YAML tag tag:yaml.org,2002:python/object/apply:os.system is not allowed: plain data only"
    ]
    assert loaded.data == {"a": None}


def test_an_empty_file_and_a_second_document_are_problems() -> None:
    assert "empty" in load_yaml_text("", "f.yaml").problems[0].message
    assert "one YAML document" in load_yaml_text("a: 1\n---\nb: 2\n", "f.yaml").problems[0].message
