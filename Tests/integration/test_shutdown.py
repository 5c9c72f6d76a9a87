"""Process lifecycle: the listening line, config errors, SIGTERM drain."""

import signal
import subprocess

from conftest import LISTEN_LINE, ConfabServer, confab_binary, web_root


def test_listening_line(server):
    assert LISTEN_LINE.match(server.listen_line)
    assert server.port > 0
    assert server.ws_path == "/ws"


def test_sigterm_closes_clients_1001_and_exits_0(server):
    a, b = server.client(), server.client()
    a.expect("presence", event="join")
    server.signal(signal.SIGTERM)
    code_a, _ = a.wait_closed(timeout=5)
    code_b, _ = b.wait_closed(timeout=5)
    assert code_a == 1001
    assert code_b == 1001
    exit_code = server.wait(timeout=5)
    assert exit_code == 0, f"exit code {exit_code} (None = still running after 5 s)"


def test_sigint_also_drains(server):
    a = server.client()
    server.signal(signal.SIGINT)
    code, _ = a.wait_closed(timeout=5)
    assert code == 1001
    assert server.wait(timeout=5) == 0


def run_with_config(tmp_path, yaml_text):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml_text)
    return subprocess.run(
        [confab_binary(), "serve", "--host", "127.0.0.1", "--port", "0",
         "--config", str(cfg), "--web-root", str(web_root())],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=10, text=True)


def test_unknown_config_key_stops_startup(tmp_path):
    proc = run_with_config(tmp_path, "chat:\n  historySize: 5\n  histroySize: 10\n")
    assert proc.returncode != 0
    assert "histroySize" in proc.stderr, proc.stderr
    assert "listening" not in proc.stdout


def test_wrong_type_config_stops_startup(tmp_path):
    proc = run_with_config(tmp_path, "chat:\n  historySize: lots\n")
    assert proc.returncode != 0
    assert "historySize" in proc.stderr, proc.stderr
