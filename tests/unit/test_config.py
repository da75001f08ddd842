import pytest
from paceline.shared import config


def test_defaults_file_environment_and_overrides_in_that_order(tmp_path):
    f = tmp_path / "paceline.toml"
    f.write_text('cluster = "prod"\ntoken_timeout = 2.5\nnode = "filenode"\ncustom = 1\n')
    cfg = config.load(f, env={"PACELINE_NODE": "envnode", "PACELINE_TWO_NODE": "yes"}, metrics_port=9000)
    assert cfg.cluster == "prod" and cfg.token_timeout == 2.5
    assert cfg.node == "envnode" and cfg.two_node is True and cfg.metrics_port == 9000
    assert cfg.extra == {"custom": 1}
    assert cfg.subjects.cib("query") == "paceline.prod.cib.query"


def test_config_file_from_environment(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("heartbeat_interval = 0.5\n")
    assert config.load(env={"PACELINE_CONFIG": str(f)}).heartbeat_interval == 0.5


@pytest.mark.parametrize("env, needle", [
    ({"PACELINE_TOKEN_TIMEOUT": "soon"}, "token_timeout must be a float"),
    ({"PACELINE_TWO_NODE": "maybe"}, "two_node must be a bool"),
    ({"PACELINE_CLUSTER": "a.b"}, "cluster name 'a.b'"),
    ({"PACELINE_CONFIG": "/nonexistent/paceline.toml"}, "does not exist"),
])
def test_bad_settings_name_the_setting(env, needle):
    with pytest.raises((config.ConfigError, ValueError), match=needle):
        config.load(env=env)


def test_malformed_toml_is_reported(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("cluster = \n")
    with pytest.raises(config.ConfigError, match=r"bad\.toml"):
        config.load(f, env={})
