"""A user's own settings without editing bench: `--set key=value` on `train`, `run` and `report`, and suite profiles
read from a small TOML or JSON file (docs/extending.md).

Every value is converted to the type its dataclass field declares and checked, so that a bad key or value is a
one-line error before any work starts. Overrides change a run's `TrainConfig`, or what it evaluates, so they
enter its identity as any config does: an overridden run never reuses a run of other settings.
"""

import dataclasses
import json
import math
import tomllib
import types
import typing
from pathlib import Path

from bench.errors import UserError, lookup
from bench.metrics import METRICS, MetricSettings
from bench.models import MODELS
from bench.suites import Profile, get_profile, model_config
from bench.train import TrainConfig

# What `--set` may change of a run of `bench train`, and of every run of a profile.
TRAIN_KEYS = ("seed", "steps", "batch_size", "lr", "latent_dim")
PROFILE_KEYS = ("steps", "seeds", "batch_size", "lr", "multipliers", "models", "datasets", "variants", "metrics")
# Profile fields a file may not set: the hypotheses are code, declared before a confirmatory run; a build's
# replacement is a recorded deviation from such a plan; the arguments are how the command line named the profile.
NOT_FROM_FILES = ("hypotheses", "replaced_builds", "arguments")
FILE_SUFFIXES = (".toml", ".json")
# Profile fields a file gives as {model: value}, with each value's type.
PER_MODEL = {"fixed_values": float | None, "seeds_by_model": int, "sweeps": tuple[float, ...]}
# Settings that are counts or sizes, whatever they belong to: a zero or negative one is a mistake.
POSITIVE = ("steps", "seeds", "batch_size", "lr", "latent_dim", "multipliers", "num_train", "num_test", "num_bins")


def parse(texts) -> dict[str, str]:
    """`["beta=4", "steps=2000"]` as {key: text}, in order; each key once."""
    settings = {}
    for text in texts:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--set {text!r}: write KEY=VALUE, e.g. --set steps=2000")
        if key in settings:
            raise UserError(f"--set {key} is given twice; give each key once")
        settings[key] = value.strip()
    return settings


def override_train(config: TrainConfig, settings: dict) -> TrainConfig:
    """`config` with `settings`: its own fields (`TRAIN_KEYS`) or the model's Config fields (`beta=4`)."""
    own, model = {}, {}
    fields = _model_fields(config.model)
    for key, text in settings.items():
        if key in TRAIN_KEYS:
            own[key] = _converted(text, _hints(TrainConfig)[key], f"--set {key}")
        elif key in fields:
            model[key] = _converted(text, fields[key], f"--set {key}")
        else:
            raise UserError(f"--set {key}: not a setting of {config.model}; choose one of: "
                            f"{', '.join([*TRAIN_KEYS, *fields])}")
    if model:
        base = config.model_config or model_config(config.model, config.dataset)
        own["model_config"] = dataclasses.replace(base, **model)
    return _checked(dataclasses.replace(config, **own), "--set")


def override_profile(profile: Profile, settings: dict) -> Profile:
    """`profile` with `settings`: its fields (`PROFILE_KEYS`; `metrics` is the metric selection, `metrics.FIELD`
    another metric setting, `seeds` every model's count) and model Config fields as `MODEL.FIELD`. The result
    is a profile of its own name (`quick+steps=2000`), and never confirmatory: a pre-registered plan is what it is.
    """
    if not settings:
        return profile
    changes, metrics, models = {}, {}, []
    for key, text in settings.items():
        where = f"--set {key}"
        head, dot, field = key.partition(".")
        if key == "metrics":
            metrics["metrics"] = _converted(text, _hints(MetricSettings)["metrics"], where)
        elif head == "metrics" and dot:
            metrics[field] = _converted(text, _setting_hint(MetricSettings, field, where), where)
        elif dot:
            fields = _model_fields(head, where)
            if field not in fields:
                raise UserError(f"{where}: {head} has no setting {field!r}; choose one of: {', '.join(fields)}")
            models.append((head, field, _converted(text, fields[field], where)))
        elif key in PROFILE_KEYS:
            changes[key] = _converted(text, _hints(Profile)[key], where)
        else:
            raise UserError(f"{where}: not a profile setting; choose one of: {', '.join(PROFILE_KEYS)}, "
                            "metrics.FIELD or MODEL.FIELD (e.g. beta_vae.beta)")
    if "seeds" in changes:
        changes["seeds_by_model"] = ()
    if metrics:
        changes["metrics"] = _checked(dataclasses.replace(profile.metrics, **metrics), "--set metrics")
    if models:
        # Later settings of the same field replace earlier ones (a file's, then the command line's).
        changes["model_settings"] = tuple({(m, f): (m, f, v) for m, f, v in (*profile.model_settings, *models)}
                                          .values())
        # A value fixed in advance is the model's regulariser: a setting of that field replaces it.
        fixed = dict(profile.fixed_values)
        fixed.update({m: v for m, f, v in models if m in fixed and f == MODELS[m].regulariser})
        changes["fixed_values"] = tuple(fixed.items())
    swept = {m for m, f, _ in models if m in dict(profile.sweeps) and f == MODELS[m].regulariser}
    if swept:
        raise UserError(f"--set: {', '.join(sorted(swept))}'s {'/'.join(MODELS[m].regulariser for m in sorted(swept))} "
                        "is swept by this profile; give your own values as `sweeps` in a profile file")
    name = "+".join([profile.name, *(f"{k}={v}" for k, v in settings.items())])
    # The replaced builds stay: they are a fact about the data (a build that failed its acceptance test).
    return _checked(dataclasses.replace(profile, **changes, name=name, hypotheses=None), "--set")


def profile_from_file(path) -> Profile:
    """A profile from a TOML or JSON file of `Profile` fields (docs/extending.md): `metrics` as a table of
    MetricSettings fields, `model_settings` as {model: {field: value}}, `fixed_values` and `seeds_by_model` as
    {model: value}. Its name is the file's stem unless it gives one."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text()
        table = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except FileNotFoundError:
        raise UserError(f"profile file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{where} is not valid {path.suffix[1:].upper()} ({e}); fix the file") from None
    if not isinstance(table, dict):
        raise UserError(f"{where}: expected a table of profile settings")
    hints = _hints(Profile)
    unknown = sorted((set(table) - set(hints)) | (set(table) & set(NOT_FROM_FILES)))
    if unknown:
        settable = [k for k in hints if k not in NOT_FROM_FILES]
        raise UserError(f"{where}: {', '.join(unknown)} cannot be set in a profile file; choose from: "
                        f"{', '.join(settable)}")
    fields = {"name": path.stem}
    for key, value in table.items():
        at = f"{where}: {key}"
        if key == "metrics":
            fields[key] = _metric_settings(value, at)
        elif key == "model_settings":
            fields[key] = _model_settings(value, at)
        elif key in PER_MODEL:
            fields[key] = tuple((m, _converted(v, PER_MODEL[key], f"{at}.{m}")) for m, v in _table(value, at).items())
        else:
            fields[key] = _converted(value, hints[key], at)
    missing = [f.name for f in dataclasses.fields(Profile)
               if f.default is dataclasses.MISSING and f.name not in fields]
    if missing:
        raise UserError(f"{where}: missing {', '.join(missing)}; a profile needs at least these")
    return _checked(Profile(**fields), where)


def resolve_profile(suite: str, profile: str, settings: dict | None = None) -> Profile:
    """`--profile NAME` of `suite`, or `--profile FILE.toml`, with `--set` settings."""
    settings = settings or {}
    plan = profile_from_file(profile) if profile.endswith(FILE_SUFFIXES) else get_profile(suite, profile)
    plan = override_profile(plan, settings)
    if plan.name == profile:
        return plan
    spelled = ("--profile", profile, *(w for k, v in settings.items() for w in ("--set", f"{k}={v}")))
    return dataclasses.replace(plan, arguments=spelled)


def _metric_settings(value, at: str) -> MetricSettings:
    if isinstance(value, list):
        value = {"metrics": value}
    table = _table(value, at)
    return _checked(MetricSettings(**{k: _converted(v, _setting_hint(MetricSettings, k, at), f"{at}.{k}")
                                      for k, v in table.items()}), at)


def _model_settings(value, at: str) -> tuple:
    settings = []
    for model, table in _table(value, at).items():
        fields = _model_fields(model, at)
        for field, v in _table(table, f"{at}.{model}").items():
            if field not in fields:
                raise UserError(f"{at}.{model}: no setting {field!r}; choose one of: {', '.join(fields)}")
            settings.append((model, field, _converted(v, fields[field], f"{at}.{model}.{field}")))
    return tuple(settings)


def _table(value, at: str) -> dict:
    if not isinstance(value, dict):
        raise UserError(f"{at}: expected a table of names and values")
    return value


def _model_fields(model: str, where: str = "--set") -> dict:
    if model not in MODELS:
        raise UserError(f"{where}: unknown model {model!r}; choose one of: {', '.join(sorted(MODELS))}")
    return _hints(MODELS[model].Config)


def _setting_hint(cls, field: str, where: str):
    hints = _hints(cls)
    if field not in hints or field == "version":
        raise UserError(f"{where}: {cls.__name__} has no setting {field!r}; choose one of: "
                        f"{', '.join(k for k in hints if k != 'version')}")
    return hints[field]


def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _checked(settings, where: str):
    """`settings` (a TrainConfig, Profile or MetricSettings) once its fields named in `POSITIVE` are above zero
    and the metrics it names exist: a typo must fail now, not after hours of training."""
    if isinstance(settings, MetricSettings):
        for name in settings.metrics:
            lookup(METRICS, name, f"metric in {where}")
    if isinstance(settings, Profile):
        _check_protocol(settings, where)
    for field in POSITIVE:
        value = getattr(settings, field, None)
        if any(v is not None and v <= 0 for v in (value if isinstance(value, tuple) else (value,))):
            raise UserError(f"{where}: {field} {value} must be above zero")
    return settings


def _check_protocol(profile: Profile, where: str):
    """What the two stages need of a profile: a line search chooses by MIG, and values fixed in advance name every
    model that has a regulariser."""
    if not profile.fixed_values and "mig" not in profile.metrics.metrics:
        raise UserError(f"{where}: a profile with a line search chooses each model's value by MIG; keep mig among "
                        "its metrics")
    unfixed = [m for m in profile.models if profile.fixed_values and m not in dict(profile.fixed_values)]
    if unfixed:
        raise UserError(f"{where}: {', '.join(unfixed)} has no value fixed in advance; give one in fixed_values "
                        "(a profile file) or leave it out of models")


def _converted(value, hint, where: str):
    """`value` (text from the command line, or a TOML/JSON value) as type `hint`, or a one-line error."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if type(None) in args and (value is None or (isinstance(value, str) and value.lower() == "none")):
            return None
        return _converted(value, next(a for a in args if a is not type(None)), where)
    if origin is tuple and args and args[-1] is Ellipsis:
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise UserError(f"{where}: expected a list, not {value!r}")
        return tuple(_converted(v, args[0], where) for v in items)
    if hint is bool:
        words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        if isinstance(value, bool) or (isinstance(value, str) and value.lower() in words):
            return value if isinstance(value, bool) else words[value.lower()]
        raise UserError(f"{where}: {value!r} is not true or false")
    if hint in (int, float):
        return _number(value, hint, where)
    if hint is str and isinstance(value, str) and value:
        return value
    if hint is str:
        raise UserError(f"{where}: expected a name, not {value!r}")
    raise UserError(f"{where}: this setting cannot be given as a value")


def _number(value, kind, where: str):
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if kind is int and not number.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        raise UserError(f"{where}: {value!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if not math.isfinite(number):
        raise UserError(f"{where}: {value!r} is not a finite number")
    return int(number) if kind is int else number
