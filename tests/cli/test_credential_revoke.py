"""`communs credential issue --status` and `communs credential revoke`, on the node's folder."""

from __future__ import annotations

import json

from connector.cli.main import main
from connector.credentials.status import StatusRegistry
from connector.identity.status import bit
from tests.nodes import init_node


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_issue_with_status_then_revoke(capsys, tmp_path):
    folder = str(init_node(tmp_path / "node", registration="leiCode:529900T8BM49AURSDO55"))
    code, out, _ = run(capsys, "credential", "issue", "--subject", "did:web:member.example",
                       "--type", "MembershipCredential", "--format", "jwt11", "--status", "--json", "--dir", folder)
    assert code == 0
    issued = json.loads(out)
    code, out, _ = run(capsys, "credential", "revoke", issued["id"], "--json", "--dir", folder)
    assert code == 0 and json.loads(out)["changed"] is True
    code, out, _ = run(capsys, "credential", "revoke", issued["id"], "--dir", folder)
    assert code == 0 and "already" in out
    registry = StatusRegistry(tmp_path / "node", "http://unused")
    assert bit(registry.bits(), 0)
    code, out, _ = run(capsys, "credential", "issue", "--subject", "did:web:member.example",
                       "--type", "MembershipCredential", "--json", "--dir", folder)
    plain = json.loads(out)["id"]
    code, _, err = run(capsys, "credential", "revoke", plain, "--dir", folder)
    assert code == 1 and "issued without a status entry" in err and "Traceback" not in err
    code, _, err = run(capsys, "credential", "revoke", "urn:uuid:nope", "--dir", folder)
    assert code == 1 and "no issued credential" in err


def test_the_cli_knows_every_proof_suite():
    from connector.cli.credentials import SUITE_NAMES
    from connector.identity.suites import SUITES

    assert set(SUITE_NAMES) == set(SUITES)


def test_issue_with_each_suite_verifies(capsys, tmp_path):
    folder = str(init_node(tmp_path / "node", registration="leiCode:529900T8BM49AURSDO55"))
    for suite in ("eddsa-rdfc-2022", "ecdsa-rdfc-2019", "Ed25519Signature2018"):
        code, out, err = run(capsys, "credential", "issue", "--subject", "did:web:member.example", "--type",
                             "MembershipCredential", "--format", "ldp", "--suite", suite, "--json", "--dir", folder)
        assert code == 0, err
        credential = json.loads(out)["credential"]
        assert suite in (credential["proof"]["type"], credential["proof"].get("cryptosuite"))
        (tmp_path / "vc.json").write_text(json.dumps(credential))
        code, out, err = run(capsys, "credential", "verify", str(tmp_path / "vc.json"), "--dir", folder)
        assert code == 0 and "valid" in out, (out, err)
    code, _, err = run(capsys, "credential", "issue", "--subject", "did:web:m.example", "--type", "X",
                       "--suite", "eddsa-rdfc-2022", "--dir", folder)
    assert code == 1 and "for --format ldp only" in err
