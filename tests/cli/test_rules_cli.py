"""``chainrule rules``: every rule of the table, with its formula, name and source, readable at 80
columns; one rule by name; an unknown name is one line."""

from __future__ import annotations

import json

from chainrule.derive.rules import RULES


def test_every_rule_is_listed_within_80_columns(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    output = cli.run(["rules"]).stdout
    assert max(len(line) for line in output.splitlines()) <= 80
    first_cells = [line.split("│")[1].strip() for line in output.splitlines()
                   if line.startswith("│") and line.split("│")[1].strip()]
    assert first_cells == list(RULES)  # each name once, in the table's order, unbroken
    assert "(c·f)' = c·f'" in output and "Goodfellow et al., Deep Learning, §6.5.2" in output


def test_json_has_name_formula_latex_and_source_of_each_rule(cli):
    rules = cli.json(["rules"])["rules"]
    assert [r["name"] for r in rules] == list(RULES)
    for entry in rules:
        rule = RULES[entry["name"]]
        assert (entry["formula"], entry["latex"], entry["source"]) == \
            (rule.description, rule.formula, rule.source)
        assert entry["source"]  # every rule says where it comes from


def test_one_rule_and_markdown(cli):
    payload = json.loads(cli.run(["rules", "constant_multiple", "--format", "json"]).stdout)
    assert [r["name"] for r in payload["rules"]] == ["constant_multiple"]
    markdown = cli.run(["rules", "--format", "markdown"]).stdout
    assert markdown.count("\n| `") == len(RULES)
    assert r"\lambda \|w\|" in markdown  # a | inside a formula is escaped
    assert r"| `softmax_ce` | $\frac{\partial}{\partial z_k}" in markdown


def test_unknown_rule_is_one_line(cli):
    assert "unknown rule 'chian': expected one of constant" in cli.fails(["rules", "chian"])
    assert "'latex' is not one of" in cli.fails(["rules", "--format", "latex"])
