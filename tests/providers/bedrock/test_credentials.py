"""AWS credentials and region: client options, environment, shared files with profiles, botocore."""

from __future__ import annotations

import importlib.machinery
import sys
import types
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from mirascope import llm
from mirascope.llm._redact import known
from mirascope.providers.bedrock.credentials import Credentials, region_of, resolve

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
OTHER_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
PIN = f'"mirascope-providers-bedrock[botocore]=={version("mirascope-providers-bedrock")}"'


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS variable, a HOME of our own, and no botocore (unless a test installs the fake one)."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    # A None entry makes `import botocore` fail and find_spec say "not installed", even where it is.
    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.delitem(sys.modules, "botocore.session", raising=False)
    return home


def _keys(access_key_id: str, secret: str = SECRET) -> str:
    return f"aws_access_key_id = {access_key_id}\naws_secret_access_key = {secret}\n"


def _write(home: Path, name: str, text: str) -> Path:
    path = home / ".aws" / name
    path.write_text(text)
    return path


# --- client options and the environment -----------------------------------------------------------


def test_client_options_come_first(monkeypatch: pytest.MonkeyPatch, clean_environment: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", OTHER_SECRET)
    _write(
        clean_environment,
        "credentials",
        f"[default]\n{_keys('AKIAFILE', OTHER_SECRET)}",
    )
    options = {"access_key_id": "AKIAOPTIONS000000001", "secret_access_key": SECRET, "session_token": "opt-token-123"}
    assert resolve(options) == Credentials("AKIAOPTIONS000000001", SECRET, "opt-token-123")


@pytest.mark.parametrize(
    "options",
    [{"session_token": "token-only-1234"}, {"access_key_id": "AKIAONLY"}, {"secret_access_key": SECRET}],
)
def test_partial_client_credentials_are_a_usage_error(options: dict[str, object]) -> None:
    with pytest.raises(llm.UsageError, match="access_key_id and secret_access_key together") as caught:
        resolve(options)
    assert SECRET not in str(caught.value)
    assert "token-only-1234" not in str(caught.value)


def test_the_environment_comes_next(monkeypatch: pytest.MonkeyPatch, clean_environment: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "env-session-token-1")
    _write(
        clean_environment,
        "credentials",
        f"[default]\n{_keys('AKIAFILE', OTHER_SECRET)}",
    )
    assert resolve({}) == Credentials("AKIAENVIRONMENT00001", SECRET, "env-session-token-1")
    monkeypatch.setenv("AWS_PROFILE", "default")  # AWS_PROFILE alone does not set the environment aside
    assert resolve({}).access_key_id == "AKIAENVIRONMENT00001"


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch, clean_environment: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
    _write(clean_environment, "credentials", f"[default]\n{_keys('AKIAFILE')}")
    assert resolve({}) == Credentials("AKIAFILE", SECRET)


@pytest.mark.parametrize(
    ("present", "missing"),
    [("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")],
)
def test_half_of_the_environment_names_the_other_half(
    monkeypatch: pytest.MonkeyPatch, present: str, missing: str
) -> None:
    monkeypatch.setenv(present, SECRET)
    with pytest.raises(llm.MissingAPIKeyError) as caught:
        resolve({})
    assert caught.value.env_var == missing
    assert f"{present} is set but {missing} is not" in str(caught.value)
    assert SECRET not in str(caught.value)


# --- the shared files -------------------------------------------------------------------------------


def test_the_default_profile_of_the_credentials_file(clean_environment: Path) -> None:
    _write(
        clean_environment,
        "credentials",
        f"# comment\n[default]\n{_keys('AKIADEFAULT')}"
        "aws_session_token = file-session-token\n\n[dev]\naws_access_key_id = AKIADEV\n"
        f"aws_secret_access_key = {OTHER_SECRET}\n",
    )
    assert resolve({}) == Credentials("AKIADEFAULT", SECRET, "file-session-token")


def test_a_profile_by_aws_profile_or_by_option(monkeypatch: pytest.MonkeyPatch, clean_environment: Path) -> None:
    _write(
        clean_environment,
        "credentials",
        f"[default]\n{_keys('AKIADEFAULT')}[dev]\n{_keys('AKIADEV', OTHER_SECRET)}",
    )
    _write(clean_environment, "config", f"[profile ops]\n{_keys('AKIAOPS')}")
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert resolve({}) == Credentials("AKIADEV", OTHER_SECRET)
    assert resolve({"profile": "ops"}) == Credentials("AKIAOPS", SECRET)


def test_an_explicit_profile_sets_the_environment_aside(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    # As botocore does: a profile named on the client wins over AWS_ACCESS_KEY_ID.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", OTHER_SECRET)
    _write(clean_environment, "credentials", f"[dev]\n{_keys('AKIADEV')}")
    assert resolve({"profile": "dev"}) == Credentials("AKIADEV", SECRET)


def test_config_sections_are_profile_name_and_the_credentials_file_wins(clean_environment: Path) -> None:
    _write(
        clean_environment,
        "config",
        # `[dev]` without `profile ` is no profile in the config file; `[profile default]` is the default.
        f"[dev]\n{_keys('AKIANOTAPROFILE')}"
        f"[profile default]\n{_keys('AKIACONFIGDEFAULT')}"
        f"[profile both]\n{_keys('AKIACONFIGBOTH')}",
    )
    _write(
        clean_environment,
        "credentials",
        f"[both]\n{_keys('AKIACREDSBOTH', OTHER_SECRET)}",
    )
    assert resolve({}).access_key_id == "AKIACONFIGDEFAULT"
    assert resolve({"profile": "both"}) == Credentials("AKIACREDSBOTH", OTHER_SECRET)
    with pytest.raises(llm.MissingAPIKeyError, match="'dev' is in neither"):
        resolve({"profile": "dev"})


def test_the_file_locations_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    credentials = tmp_path / "elsewhere-credentials"
    credentials.write_text(f"[default]\n{_keys('AKIAELSEWHERE')}")
    config = tmp_path / "elsewhere-config"
    config.write_text("[profile dev]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert resolve({}).access_key_id == "AKIAELSEWHERE"
    assert region_of({"profile": "dev"}) == "ap-south-1"


def test_a_secret_with_percent_signs_is_read_as_written(clean_environment: Path) -> None:
    _write(
        clean_environment, "credentials", "[default]\naws_access_key_id = AKIAPCT\naws_secret_access_key = ab%cd%(x)s\n"
    )
    assert resolve({}).secret_access_key == "ab%cd%(x)s"


def test_a_profile_with_half_its_keys_names_what_is_missing(clean_environment: Path) -> None:
    _write(clean_environment, "credentials", f"[default]\naws_secret_access_key = {SECRET}\n")
    with pytest.raises(llm.MissingAPIKeyError, match="has no aws_access_key_id") as caught:
        resolve({})
    assert SECRET not in str(caught.value)


def test_a_broken_file_is_reported_without_its_contents(clean_environment: Path) -> None:
    _write(clean_environment, "credentials", f"[default]\naws_access_key_id = AKIABROKEN\n{SECRET}\n")
    with pytest.raises(llm.MissingAPIKeyError, match=r"line 3") as caught:
        resolve({})
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


# --- sources that need botocore ------------------------------------------------------------------


SDK_PROFILES = {
    "sso_session": "sso_session = corp\n",
    "sso_start_url": "sso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
    "role_arn": "role_arn = arn:aws:iam::123456789012:role/Bedrock\nsource_profile = base\n",
    "credential_source": "role_arn = arn:aws:iam::123456789012:role/Bedrock\ncredential_source = Ec2InstanceMetadata\n",
    "web_identity_token_file": "role_arn = arn:aws:iam::123456789012:role/B\nweb_identity_token_file = /t\n",
    "credential_process": "credential_process = /usr/local/bin/get-creds\n",
}


@pytest.mark.parametrize("setting", list(SDK_PROFILES))
def test_a_profile_that_needs_an_sdk_without_botocore_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path, setting: str
) -> None:
    _write(clean_environment, "config", f"[profile corp]\n{SDK_PROFILES[setting]}")
    monkeypatch.setenv("AWS_PROFILE", "corp")
    with pytest.raises(llm.MissingAPIKeyError) as caught:
        resolve({})
    message = str(caught.value)
    assert caught.value.provider == "bedrock"
    assert f"profile 'corp' gets its credentials through {setting}" in message
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in message
    assert f"pip install --find-links dist {PIN}" in message


def test_nothing_found_without_botocore_names_the_variables_the_profile_and_the_extra() -> None:
    with pytest.raises(llm.MissingAPIKeyError) as caught:
        resolve({})
    message = str(caught.value)
    assert message.startswith("bedrock: no AWS credentials were found.")
    for named in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK"):
        assert named in message
    assert "profile 'default'" in message
    assert "AWS_CONTAINER_CREDENTIALS_*" in message
    assert f"pip install --find-links dist {PIN}" in message


def test_static_keys_of_the_credentials_file_come_before_a_credential_process(clean_environment: Path) -> None:
    # botocore's order: the credentials file, then credential_process, then the config file's keys.
    _write(clean_environment, "config", "[default]\ncredential_process = /bin/false\n")
    _write(
        clean_environment,
        "credentials",
        f"[default]\n{_keys('AKIASTATIC')}",
    )
    assert resolve({}).access_key_id == "AKIASTATIC"


class FakeBotocore:
    """A stand-in for botocore's `session.Session(profile=...).get_credentials().get_frozen_credentials()`.

    botocore is not installed here, so this tests our adapter to its interface, not botocore itself.
    """

    def __init__(self, issued: Sequence[tuple[str, str, str | None]] | None, error: Exception | None = None) -> None:
        self.issued = issued
        self.error = error
        self.profiles: list[str | None] = []
        self.reads = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        package = types.ModuleType("botocore")
        package.__spec__ = importlib.machinery.ModuleSpec("botocore", None)
        session = types.ModuleType("botocore.session")
        session.__spec__ = importlib.machinery.ModuleSpec("botocore.session", None)
        fake = self

        class Session:
            def __init__(self, profile: str | None = None) -> None:
                fake.profiles.append(profile)

            def get_credentials(self) -> Any:
                if fake.error is not None:
                    raise fake.error
                return None if fake.issued is None else fake

        session.Session = Session  # type: ignore[attr-defined]
        package.session = session  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "botocore", package)
        monkeypatch.setitem(sys.modules, "botocore.session", session)

    def get_frozen_credentials(self) -> Any:
        assert self.issued is not None
        access_key, secret_key, token = self.issued[min(self.reads, len(self.issued) - 1)]
        self.reads += 1
        return types.SimpleNamespace(access_key=access_key, secret_key=secret_key, token=token)


@pytest.fixture
def botocore(monkeypatch: pytest.MonkeyPatch) -> FakeBotocore:
    fake = FakeBotocore([("ASIASSO0000000000001", SECRET, "sso-session-token-1")])
    fake.install(monkeypatch)
    return fake


def test_an_sso_profile_goes_to_botocore_with_the_profile_named(
    botocore: FakeBotocore, clean_environment: Path
) -> None:
    _write(
        clean_environment,
        "config",
        f"[profile corp]\n{SDK_PROFILES['sso_session']}[sso-session corp]\nsso_region = us-east-1\n",
    )
    credentials = resolve({"profile": "corp"})
    assert credentials == Credentials("ASIASSO0000000000001", SECRET, "sso-session-token-1")
    assert botocore.profiles == ["corp"]


def test_aws_profile_is_left_to_botocore_to_read(
    monkeypatch: pytest.MonkeyPatch, botocore: FakeBotocore, clean_environment: Path
) -> None:
    # Passing it on would make botocore set the environment aside, which AWS_PROFILE does not do.
    _write(clean_environment, "config", f"[profile corp]\n{SDK_PROFILES['role_arn']}")
    monkeypatch.setenv("AWS_PROFILE", "corp")
    resolve({})
    assert botocore.profiles == [None]


def test_with_nothing_found_botocore_looks_further(monkeypatch: pytest.MonkeyPatch, botocore: FakeBotocore) -> None:
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x")
    assert resolve({}).access_key_id == "ASIASSO0000000000001"
    assert botocore.profiles == [None]


def test_web_identity_in_the_environment_goes_to_botocore_before_the_files(
    monkeypatch: pytest.MonkeyPatch, botocore: FakeBotocore, clean_environment: Path
) -> None:
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/B")
    _write(
        clean_environment,
        "credentials",
        f"[default]\n{_keys('AKIASTATIC')}",
    )
    assert resolve({}).access_key_id == "ASIASSO0000000000001"


def test_botocore_credentials_are_renewed_through_it(botocore: FakeBotocore) -> None:
    botocore.issued = [
        ("ASIAFIRST00000000001", SECRET, "first-session-token"),
        ("ASIAFIRST00000000001", SECRET, "first-session-token"),
        ("ASIASECOND0000000002", OTHER_SECRET, "second-session-token"),
    ]
    credentials = resolve({})
    assert credentials.session_token == "first-session-token"
    unchanged = credentials.current()
    assert unchanged is credentials  # nothing renewed: the same object
    renewed = credentials.current()
    assert renewed == Credentials("ASIASECOND0000000002", OTHER_SECRET, "second-session-token")
    assert "second-session-token" in known().secrets


def test_botocore_finding_nothing_is_a_missing_key_error(botocore: FakeBotocore) -> None:
    botocore.issued = None
    with pytest.raises(llm.MissingAPIKeyError, match="botocore found none either"):
        resolve({})


def test_botocore_failing_is_a_missing_key_error_with_its_reason(botocore: FakeBotocore) -> None:
    botocore.error = RuntimeError("Token has expired and refresh failed")
    with pytest.raises(llm.MissingAPIKeyError, match="RuntimeError: Token has expired") as caught:
        resolve({})
    assert caught.value.__cause__ is botocore.error


# --- what may be shown -----------------------------------------------------------------------------


def test_the_repr_shows_four_characters_of_the_key_id_and_nothing_secret() -> None:
    credentials = Credentials("AKIAIOSFODNN7EXAMPLE", SECRET, "a-session-token-value")
    for shown in (repr(credentials), str(credentials), f"{credentials!r} {[credentials]}"):
        assert "MPLE" in shown
        assert "AKIAIOSFODNN7EX" not in shown
        assert SECRET not in shown
        assert "a-session-token-value" not in shown
    assert "session_token" not in repr(Credentials("AKIAIOSFODNN7EXAMPLE", SECRET))


def test_resolved_secrets_are_redacted_from_logs_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "redact-me-secret-0123456789")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "redact-me-token-0123456789")
    resolve({})
    text = known().text("sent redact-me-token-0123456789 with redact-me-secret-0123456789")
    assert text == "sent [redacted] with [redacted]"


# --- the region --------------------------------------------------------------------------------------


def test_the_region_in_order(monkeypatch: pytest.MonkeyPatch, clean_environment: Path) -> None:
    config = _write(
        clean_environment, "config", "[default]\nregion = eu-west-3\n[profile dev]\nregion = ap-northeast-1\n"
    )
    assert region_of({}) == "eu-west-3"
    assert region_of({"profile": "dev"}) == "ap-northeast-1"
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert region_of({}) == "ap-northeast-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-1")
    assert region_of({}) == "us-west-1"
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    assert region_of({}) == "us-east-2"
    assert region_of({"region": "sa-east-1"}) == "sa-east-1"
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    config.write_text("[profile dev]\nregion = ca-central-1\n")  # an edited file is read again
    assert region_of({}) == "ca-central-1"


def test_no_region_anywhere_is_none(clean_environment: Path) -> None:
    assert region_of({}) is None
    _write(clean_environment, "config", "[profile dev]\nregion = eu-north-1\n")
    assert region_of({}) is None  # the default profile has none
