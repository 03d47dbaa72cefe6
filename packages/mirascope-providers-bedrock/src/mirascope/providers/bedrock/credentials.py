"""AWS credentials and region for signing.

They come from the client's settings, the environment, the shared credentials and config files,
or, for the sources that need an SDK, from botocore.

The order is botocore's: the client's `access_key_id`/`secret_access_key`; the `AWS_*` variables
(skipped when the client names a `profile`, as botocore skips them for an explicit profile); then
the profile (`profile=`, else `AWS_PROFILE`, else `default`): a `role_arn`, web identity or SSO
profile goes to botocore, then static keys of the credentials file, a `credential_process` (botocore),
static keys of the config file. With nothing found, botocore looks further (container and instance
metadata) when it is installed; otherwise the error says what to set and what to install.

Only the standard library is loaded here (`configparser` on first use): botocore is imported
only when a source needs it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from attrs import field, frozen
from mirascope import llm

if TYPE_CHECKING:
    import configparser

__all__ = ["Credentials", "region_of", "resolve"]

_ENV_KEYS = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)"
# Profile settings whose credentials only an AWS SDK can fetch (SSO tokens, STS calls, a command).
# The most telling first: a web identity or credential_source profile has a role_arn too.
_NEEDS_SDK = ("web_identity_token_file", "credential_source", "role_arn", "sso_session", "sso_start_url")
_PROCESS = "credential_process"


@frozen(repr=False)
class Credentials:
    """AWS credentials: an access key id, its secret, and a session token for temporary ones.

    The repr shows the access key id's last four characters and nothing of the secret or the
    token; the secret and the token are remembered by core's redaction, so logs and errors are
    scrubbed of them.
    """

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    refresh: Callable[[], Credentials] | None = field(default=None, eq=False, kw_only=True)
    """For credentials that expire (botocore's): returns the ones valid now, renewed when due."""

    def __attrs_post_init__(self) -> None:
        from mirascope.llm.providers import remember_secrets

        remember_secrets(s for s in (self.secret_access_key, self.session_token) if s)

    def current(self) -> Credentials:
        """The credentials to sign with now: these, or a renewal of them."""
        return self if self.refresh is None else self.refresh()

    def __repr__(self) -> str:
        token = ", session_token=<hidden>" if self.session_token else ""
        refreshed = ", refreshed by botocore" if self.refresh is not None else ""
        return f"Credentials(access_key_id='…{self.access_key_id[-4:]}', secret_access_key=<hidden>{token}{refreshed})"


def resolve(options: Mapping[str, object]) -> Credentials:
    """The credentials to sign with, looked up in botocore's order (see the module's doc)."""
    given = _given(options)
    if given is not None:
        return given
    explicit = _text(options.get("profile"))
    if explicit is None:
        from_env = _from_environment()
        if from_env is not None:
            return from_env
    profile = explicit or _env("AWS_PROFILE") or "default"
    files = _SharedFiles.read()
    in_credentials = files.credentials.get(profile)
    in_config = files.config.get(profile)
    merged = {**(in_config or {}), **(in_credentials or {})}
    needs_sdk = [key for key in _NEEDS_SDK if key in merged]
    if explicit is None and _env("AWS_WEB_IDENTITY_TOKEN_FILE"):
        needs_sdk.append("AWS_WEB_IDENTITY_TOKEN_FILE")
    if needs_sdk:
        return _from_botocore(explicit, f"profile {profile!r} gets its credentials through {needs_sdk[0]}", profile)
    if in_credentials is not None:
        static = _static(in_credentials, f"profile {profile!r} of {files.credentials_path}")
        if static is not None:
            return static
    if _PROCESS in merged:
        return _from_botocore(explicit, f"profile {profile!r} gets its credentials through {_PROCESS}", profile)
    if in_config is not None:
        static = _static(in_config, f"profile {profile!r} of {files.config_path}")
        if static is not None:
            return static
    if in_credentials is None and in_config is None and profile != "default":
        raise llm.MissingAPIKeyError(
            provider="bedrock",
            env_var="AWS_ACCESS_KEY_ID",
            message=f"bedrock: the AWS profile {profile!r} is in neither {files.credentials_path} "
            f"(AWS_SHARED_CREDENTIALS_FILE) nor {files.config_path} (AWS_CONFIG_FILE, as [profile {profile}]). "
            f"Name an existing profile, or set {_ENV_KEYS}.",
        )
    # Containers (AWS_CONTAINER_CREDENTIALS_*) and instances (metadata service): botocore's to find.
    return _from_botocore(explicit, "no AWS credentials were found", profile)


def region_of(options: Mapping[str, object]) -> str | None:
    """The region: `region=`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region`."""
    region = _text(options.get("region")) or _env("AWS_REGION") or _env("AWS_DEFAULT_REGION")
    if region is not None:
        return region
    profile = _text(options.get("profile")) or _env("AWS_PROFILE") or "default"
    files = _SharedFiles.read()
    merged = {**files.config.get(profile, {}), **files.credentials.get(profile, {})}
    return merged.get("region") or None


def _given(options: Mapping[str, object]) -> Credentials | None:
    access_key_id = _text(options.get("access_key_id"))
    secret_access_key = _text(options.get("secret_access_key"))
    session_token = _text(options.get("session_token"))
    if access_key_id is None or secret_access_key is None:
        if session_token is not None or access_key_id is not None or secret_access_key is not None:
            raise llm.UsageError(
                "llm.client('bedrock') takes access_key_id and secret_access_key together (and session_token "
                "only with them): pass both, or neither to use the environment or a profile."
            )
        return None
    return Credentials(access_key_id, secret_access_key, session_token)


def _from_environment() -> Credentials | None:
    access_key_id = _env("AWS_ACCESS_KEY_ID")
    secret_access_key = _env("AWS_SECRET_ACCESS_KEY")
    if access_key_id is None and secret_access_key is None:
        return None
    if access_key_id is None or secret_access_key is None:
        missing = "AWS_ACCESS_KEY_ID" if access_key_id is None else "AWS_SECRET_ACCESS_KEY"
        present = "AWS_SECRET_ACCESS_KEY" if access_key_id is None else "AWS_ACCESS_KEY_ID"
        raise llm.MissingAPIKeyError(
            provider="bedrock",
            env_var=missing,
            message=f"bedrock: {present} is set but {missing} is not; set both (and AWS_SESSION_TOKEN for "
            "temporary credentials), or neither to use a profile.",
        )
    # AWS_SECURITY_TOKEN: the older name, still read by the SDKs.
    token = _env("AWS_SESSION_TOKEN") or _env("AWS_SECURITY_TOKEN")
    return Credentials(access_key_id, secret_access_key, token)


def _static(section: Mapping[str, str], where: str) -> Credentials | None:
    access_key_id = section.get("aws_access_key_id") or None
    secret_access_key = section.get("aws_secret_access_key") or None
    if access_key_id is None and secret_access_key is None:
        return None
    if access_key_id is None or secret_access_key is None:
        missing = "aws_access_key_id" if access_key_id is None else "aws_secret_access_key"
        raise llm.MissingAPIKeyError(
            provider="bedrock",
            env_var="AWS_ACCESS_KEY_ID",
            message=f"bedrock: {where} has no {missing}; a profile's static credentials need "
            "aws_access_key_id and aws_secret_access_key (and aws_session_token for temporary ones).",
        )
    token = section.get("aws_session_token") or section.get("aws_security_token") or None
    return Credentials(access_key_id, secret_access_key, token)


def _from_botocore(explicit_profile: str | None, why: str, profile: str) -> Credentials:
    """Credentials from botocore's own resolver, renewed through it when they expire."""
    if not _botocore_installed():
        files = _SharedFiles.paths()
        raise llm.MissingAPIKeyError(
            provider="bedrock",
            env_var="AWS_ACCESS_KEY_ID",
            message=f"bedrock: {why}. Set {_ENV_KEYS}, or a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK; "
            f"or give profile {profile!r} (profile=... or AWS_PROFILE) static keys in {files[0]} "
            f"(AWS_SHARED_CREDENTIALS_FILE) or {files[1]} (AWS_CONFIG_FILE); or pass "
            "llm.client('bedrock', access_key_id=..., secret_access_key=...). SSO, assume-role, web identity, "
            "credential_process, container (AWS_CONTAINER_CREDENTIALS_*) and instance-metadata credentials "
            f"come through botocore: {_install_hint()}.",
        )
    import importlib

    # Imported by name: botocore is optional, and untyped.
    session_module: Any = importlib.import_module("botocore.session")
    where = f" for profile {profile!r}"
    try:
        found: Any = session_module.Session(profile=explicit_profile).get_credentials()
    except Exception as error:  # botocore's own: an unknown profile, an expired SSO token, a failed STS call
        raise _botocore_failed(where, error) from error
    if found is None:
        raise llm.MissingAPIKeyError(
            provider="bedrock",
            env_var="AWS_ACCESS_KEY_ID",
            message=f"bedrock: {why}, and botocore found none either{where} (its chain includes SSO, "
            f"assume-role, containers and instance metadata). Set {_ENV_KEYS}, a Bedrock API key in "
            "AWS_BEARER_TOKEN_BEDROCK, or a profile with credentials.",
        )
    return _Renewing(found, where)()


class _Renewing:
    """botocore's credentials object, read afresh for each signature (it renews them when due)."""

    __slots__ = ("_last", "_lock", "_source", "_where")

    def __init__(self, source: Any, where: str) -> None:
        self._source = source
        self._where = where
        self._last: Credentials | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Credentials:
        try:
            frozen_now: Any = self._source.get_frozen_credentials()
        except Exception as error:  # a renewal that failed: STS, SSO or the metadata service
            raise _botocore_failed(self._where, error) from error
        values = (str(frozen_now.access_key), str(frozen_now.secret_key), frozen_now.token or None)
        with self._lock:
            last = self._last
            if last is None or (last.access_key_id, last.secret_access_key, last.session_token) != values:
                last = self._last = Credentials(*values, refresh=self)
        return last


def _botocore_failed(where: str, error: Exception) -> llm.MissingAPIKeyError:
    return llm.MissingAPIKeyError(
        provider="bedrock",
        env_var="AWS_ACCESS_KEY_ID",
        message=f"bedrock: botocore could not get credentials{where}: {type(error).__name__}: {error}",
    )


def _botocore_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("botocore") is not None
    except ValueError:  # a module put in sys.modules without a spec
        return "botocore" in sys.modules


def _install_hint() -> str:
    """The command that installs the botocore extra of this very release (pinned, as core's hints are)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pin = f"=={version('mirascope-providers-bedrock')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        pin = ""
    requirement = f"mirascope-providers-bedrock[botocore]{pin}"
    return f'pip install --find-links dist "{requirement}" (wheels built with scripts/build.sh)'


@frozen
class _SharedFiles:
    """The profiles of the shared credentials file (`[name]`) and config file (`[profile name]`)."""

    credentials_path: str
    config_path: str
    credentials: Mapping[str, Mapping[str, str]]
    config: Mapping[str, Mapping[str, str]]

    @staticmethod
    def paths() -> tuple[str, str]:
        credentials = _env("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
        config = _env("AWS_CONFIG_FILE") or "~/.aws/config"
        return os.path.expanduser(credentials), os.path.expanduser(config)

    @classmethod
    def read(cls) -> _SharedFiles:
        credentials_path, config_path = cls.paths()
        config: dict[str, Mapping[str, str]] = {}
        for name, values in _parsed(config_path).items():
            if name.startswith("profile "):
                config[name.removeprefix("profile ").strip()] = values
            elif name == "default":
                # `[profile default]` and `[default]` both name it; the first wins when both exist.
                config.setdefault("default", values)
            # Other sections (`[sso-session x]`, `[services x]`) are not profiles.
        return cls(credentials_path, config_path, _parsed(credentials_path), config)


# Each file parsed once per change (keyed by its size and modification time): `region_of` runs
# for every signature, and most of the time finds the region in the environment anyway.
_parsed_cache: dict[str, tuple[tuple[int, int], dict[str, dict[str, str]]]] = {}


def _parsed(path: str) -> dict[str, dict[str, str]]:
    try:
        status = os.stat(path)
    except OSError:
        return {}
    stamp = (status.st_mtime_ns, status.st_size)
    cached = _parsed_cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    sections = _parse(path)
    _parsed_cache[path] = (stamp, sections)
    return sections


def _parse(path: str) -> dict[str, dict[str, str]]:
    import configparser

    # No interpolation (a secret may hold `%`), repeated sections and keys tolerated, and no
    # `[DEFAULT]` magic: AWS's `[default]` is an ordinary section.
    parser = configparser.RawConfigParser(strict=False, default_section="\0")
    try:
        with open(path, encoding="utf-8") as file:
            parser.read_file(file, source=path)
    except (OSError, UnicodeDecodeError) as error:
        raise llm.MissingAPIKeyError(
            provider="bedrock",
            env_var="AWS_ACCESS_KEY_ID",
            message=f"bedrock: cannot read {path}: {type(error).__name__}.",
        ) from None
    except configparser.Error as error:
        # The parser's own message quotes the offending line, which may hold a key: the line number only.
        raise llm.MissingAPIKeyError(
            provider="bedrock",
            env_var="AWS_ACCESS_KEY_ID",
            message=f"bedrock: {path} is not a valid AWS credentials or config file (line {_line_of(error)}): "
            "fix the line, or point AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE at a valid file.",
        ) from None
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _line_of(error: configparser.Error) -> str:
    lineno: object = getattr(error, "lineno", None)
    if lineno is None:
        errors: list[tuple[int, str]] = getattr(error, "errors", [])
        lineno = errors[0][0] if errors else "?"
    return str(lineno)


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
