"""The whole study config and how it is loaded: one YAML file, its relative paths resolved against
its folder, validated into a frozen :class:`Config`, or a :class:`ConfigError` that names the key."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from custseg import paths
from custseg.config.advice import PlaybookAction, Strategy, default_playbook_actions
from custseg.config.engines import Engine
from custseg.config.queries import TableInput
from custseg.config.sections import (
    DEFAULT_TIER_KEYS,
    INPUT_KINDS,
    Churn,
    Cleaning,
    Clusters,
    Currency,
    Demographics,
    Group,
    Inputs,
    Lifecycle,
    Output,
    Preferences,
    Regions,
    Segments,
    Snapshots,
    Strict,
    Studies,
    StudyInfo,
    Tiers,
    Value,
    by_position,
    default_playbook,
    default_silence_days_by_tier,
)


class Config(Strict):
    """A whole study configuration. Build it with :func:`load_config`."""

    study: StudyInfo
    inputs: Inputs
    currency: Currency = Currency()
    cleaning: Cleaning = Cleaning()
    observation_date: dt.date | None = None  # None: the day after the last completed order
    output: Output
    regions: Regions = Regions()
    tiers: Tiers = Tiers()
    segments: Segments = Segments()
    clusters: Clusters = Clusters()
    lifecycle: Lifecycle = Lifecycle()
    snapshots: Snapshots = Snapshots()
    studies: Studies = Studies()
    demographics: Demographics = Demographics()
    preferences: Preferences = Preferences()
    # named customer groups, each a filter over the customer table in the language of
    # custseg.config.filters ("customer_type == 'B2B' and tier == 'high'") or a Group with its
    # titles; one study each
    groups: dict[str, Group] = Field(default_factory=dict)
    churn: Churn = Churn()
    value: Value = Value()
    strategy: Strategy = Strategy()
    # tier -> what to do for its customers (shown in the tier studies)
    playbook: dict[str, list[PlaybookAction]] = Field(default_factory=default_playbook_actions)
    engine: Engine = Engine()  # where the fact table is read and cleaned (custseg.config.engines)
    source: Path = Field(exclude=True)  # the YAML file this came from

    @model_validator(mode="before")
    @classmethod
    def _tier_defaults_by_position(cls, raw: object) -> object:
        # The defaults of playbook, churn.playbook and churn.silence_days_by_tier are written for
        # [high, mid, low]; renamed tiers ([vip, high, mid, low]) get them by position, not by
        # the words. A mapping the user gave stays as it is, by name.
        if not isinstance(raw, dict):
            return raw
        tiers = raw.get("tiers")
        names = (tiers.names if isinstance(tiers, Tiers)
                 else (tiers or {}).get("names") if isinstance(tiers, dict) else None)
        if not isinstance(names, list) or len(names) < 2 or names == list(DEFAULT_TIER_KEYS):
            return raw  # the default tiers, or names the Tiers check will refuse
        raw = dict(raw)
        if "playbook" not in raw:
            raw["playbook"] = by_position(default_playbook_actions(), names)
        churn = raw.get("churn", {})
        defaults = {"silence_days_by_tier": default_silence_days_by_tier, "playbook": default_playbook}
        if isinstance(churn, Churn):
            given = churn.model_fields_set
            update = {key: by_position(make(), names) for key, make in defaults.items() if key not in given}
            raw["churn"] = churn.model_copy(update=update)
        elif isinstance(churn, dict):
            raw["churn"] = {key: by_position(make(), names) for key, make in defaults.items()} | churn
        return raw

    @field_validator("groups")
    @classmethod
    def _group_names(cls, groups: dict[str, Group]) -> dict[str, Group]:
        # the name becomes a folder, a file name and a CRM tag (name:value;...): a plain slug
        # (each filter is parsed by Group, so an error names groups.<name>.filter)
        for name in groups:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
                raise ValueError(f"groups: the name {name!r} must be lower-case letters, digits, _ and -")
        return groups

    @model_validator(mode="after")
    def _bands_name_attributes(self) -> Config:
        # a band rule for a column that is neither profiled nor studied by value would silently
        # never apply (a typo, "agee")
        known = set(self.demographics.profiled()) | set(self.studies.by)
        unknown = sorted(set(self.demographics.bands) - known)
        if unknown:
            raise ValueError(f"demographics.bands names {unknown[0]!r}, which is neither in demographics.attributes "
                             f"nor in studies.by")
        return self

    @model_validator(mode="after")
    def _mappings_name_tiers(self) -> Config:
        # A tier mapping written for a tier that does not exist (a typo, "hihg") would silently
        # never apply; the defaults are given to the configured tiers, so they always pass.
        names = list(self.tiers.names)
        for key, mapping in (("playbook", self.playbook), ("churn.playbook", self.churn.playbook),
                             ("churn.silence_days_by_tier", self.churn.silence_days_by_tier)):
            unknown = sorted(set(mapping) - set(names))
            if unknown:
                raise ValueError(f"{key} names tier(s) {unknown} that are not in tiers.names {names}")
        return self

    @model_validator(mode="after")
    def _tables_read_by_spark(self) -> Config:
        # a table of Spark's catalog exists only in a Spark session: no other engine can read it,
        # and only the fact table is read there (the small tables are read by pandas)
        for name, spec in self.inputs.present().items():
            if not isinstance(spec, TableInput):
                continue
            if name != "line_items":
                raise ValueError(f"inputs.{name}.table: only inputs.line_items can be a table of Spark's catalog; "
                                 f"inputs.{name} is read by pandas: give it as a file, a query or a database")
            if self.engine.name != "spark":
                raise ValueError(f"inputs.{name}.table: a table of Spark's catalog ({spec.table}) is read by "
                                 f"engine: spark, not by {self.engine.name}: set engine: {{name: spark}}, or export "
                                 "the table to a file and give its path")
        return self

    @model_validator(mode="after")
    def _outputs_apart_from_inputs(self) -> Config:
        # custseg never writes where its inputs are: an output folder equal to an input's folder
        # overwrote the raw export with the clean table, one that contains it is removed whole
        # by `make clean`, and one inside it mixes what can be rebuilt with what cannot.
        for name, folder in self.inputs.folders():
            for key in Output.model_fields:
                out = Path(getattr(self.output, key)).resolve()
                relation = ("is" if out == folder else "contains" if folder.is_relative_to(out)
                            else "is inside" if out.is_relative_to(folder) else None)
                if relation:
                    raise ValueError(
                        f"output.{key} {out} {relation} the folder of inputs.{name} ({folder}); custseg never "
                        f"writes where its inputs are: put the outputs in a folder of their own beside it "
                        f"(e.g. {folder.parent / 'out' / key}) or the inputs in a folder of their own"
                    )
        return self

    def fingerprint(self) -> str:
        """Hash of the validated settings: the same config always gives the same hash."""
        # the default engine is left out: a config that asks nothing of it keeps the hash it had
        dumped = self.model_dump(mode="json", exclude={"engine"} if self.engine.is_default() else None)
        text = json.dumps(dumped, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]



class ConfigError(ValueError):
    """A config file that cannot be used, with a message that names the file and the key."""


def _resolve(value: object, base: Path) -> object:
    return value if Path(str(value)).is_absolute() else (base / str(value)).resolve()


def _resolve_paths(raw: dict, base: Path) -> dict:
    """Make every path in a raw config absolute, relative to the config file's folder."""
    raw = dict(raw)
    inputs = {}
    for name, spec in (raw.get("inputs") or {}).items():
        if isinstance(spec, str):  # shorthand: `orders: path/to/orders.csv`
            spec = {"path": spec}
        if isinstance(spec, dict) and "path" in spec:
            spec = {**spec, "path": _resolve(spec["path"], base)}
        if isinstance(spec, dict) and isinstance(spec.get("sources"), dict):  # a query over files
            spec = {**spec, "sources": {
                source: _resolve(value, base) if isinstance(value, str)
                else {**value, "path": _resolve(value["path"], base)} if isinstance(value, dict) and "path" in value
                else value
                for source, value in spec["sources"].items()
            }}
        for key in ("url_file", "password_file"):  # a database input's secrets
            if isinstance(spec, dict) and spec.get(key) is not None:
                spec = {**spec, key: _resolve(spec[key], base)}
        inputs[name] = spec
    raw["inputs"] = inputs
    if isinstance(raw.get("output"), dict):
        raw["output"] = {key: _resolve(value, base) for key, value in raw["output"].items()}
    engine = raw.get("engine")
    if isinstance(engine, dict) and engine.get("temp_directory") is not None:
        raw["engine"] = {**engine, "temp_directory": _resolve(engine["temp_directory"], base)}
    return raw


def load_config(path: str | Path = paths.DEFAULT_CONFIG) -> Config:
    """Read and validate a study config.

    Parameters
    ----------
    path
        YAML file. Relative paths inside it are taken relative to its folder.

    Returns
    -------
    Config
        The validated, frozen configuration.

    Raises
    ------
    ConfigError
        When the file is missing, is not YAML, or has an unknown key or a bad value; the message
        names the file and the key.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        return Config.model_validate({**_resolve_paths(raw, path.parent), "source": path})
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in _key(err['loc'])) or '(whole config)'}: {_explain(err)}"
            for err in exc.errors()
        )
        raise ConfigError(f"{path}: invalid config\n{problems}") from None


def _key(loc: tuple) -> tuple:
    """An error's location as the config's keys: without the input kind pydantic puts in it."""
    if len(loc) > 2 and loc[0] == "inputs" and loc[2] in INPUT_KINDS:
        return (*loc[:2], *loc[3:])
    return loc


def _explain(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling against docs/config.md)"
    if err["type"] == "missing":
        return "required key is missing"
    if err["type"] == "value_error" and "error" in err.get("ctx", {}):
        return str(err["ctx"]["error"])  # our own message, without pydantic's "Value error, "
    return err["msg"]
