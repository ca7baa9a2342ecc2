"""Two nodes for real, on one machine: two network namespaces joined by a veth pair are two "hosts" with their
own addresses; mpirun runs inside the first, reads a host file naming both, and starts the second host's
daemon through an rsh agent that enters the second namespace. Two ranks per host talk over TCP (shared
memory within a host). Checks: negatron's node-local ranks are 0, 1 on each host, and 3 training steps
on 2 hosts x 2 ranks give the losses and weights of one process at the same global batch (float64,
dropout off; tolerance 1e-5 as in test_distributed_equivalence.py). All traffic stays inside the
namespaces this test creates, which it removes even when the test fails. Skips (with the reason) where
network namespaces cannot be created (not root, no `ip`, no CAP_SYS_ADMIN)."""
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from safetensors.numpy import load_file
from conftest import negatron_bin, prepare_triplets, run_negatron, snli_triplets
from loss_harness import make_tiny_st_model

STEPS = 3
GLOBAL_BATCH = 8
TOLERANCE = 1e-5


def sh(*args, check=True):
    return subprocess.run(list(map(str, args)), capture_output=True, text=True, check=check, timeout=60)


class TwoHosts:
    """Namespaces <tag>a / <tag>b, veth <tag>a <-> <tag>b, addresses 10.254.N.1 / 10.254.N.2."""

    def __init__(self):
        tag = f"ngt{os.getpid()}"  # at most 11 characters: interface names allow 15
        self.ns = [tag + "a", tag + "b"]
        subnet = 1 + os.getpid() % 250
        self.ips = [f"10.254.{subnet}.1", f"10.254.{subnet}.2"]
        self.cidr = f"10.254.{subnet}.0/24"
        self.veth = [tag + "a", tag + "b"]

    def create(self):
        for ns in self.ns:
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", self.veth[0], "type", "veth", "peer", "name", self.veth[1])
        for ns, veth, ip in zip(self.ns, self.veth, self.ips):
            sh("ip", "link", "set", veth, "netns", ns)
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", veth)
            sh("ip", "-n", ns, "link", "set", veth, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def remove(self):
        for ns in self.ns:
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", ns, check=False)  # deleting a namespace deletes its veth end


def remove_stale_namespaces():
    """Namespaces of an earlier run of this test that was killed before its cleanup (its pid is gone)."""
    for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
        match = re.match(r"ngt(\d+)[ab]\b", line)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            sh("ip", "netns", "del", line.split()[0], check=False)


@pytest.fixture(scope="module")
def hosts():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("two-node test needs root and iproute2 (ip netns) to create network namespaces")
    remove_stale_namespaces()
    two = TwoHosts()
    try:
        two.create()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        two.remove()
        pytest.skip(f"cannot create network namespaces here: {getattr(error, 'stderr', '') or error}")
    try:
        if shutil.which("ping"):
            ping = sh("ip", "netns", "exec", two.ns[0], "ping", "-c", "1", "-W", "2", two.ips[1], check=False)
            assert ping.returncode == 0, f"the two namespaces cannot reach each other: {ping.stdout}{ping.stderr}"
        yield two
    finally:
        two.remove()
        leftover = sh("ip", "netns", "list").stdout
        assert not any(ns in leftover for ns in two.ns), f"namespaces left behind: {leftover}"


@pytest.fixture(scope="module")
def setup(tmp_path_factory, minilm):
    root = tmp_path_factory.mktemp("two_nodes")
    model = make_tiny_st_model(root, minilm, pooling_mode="mean", normalize=True)
    return root, model, prepare_triplets(model, snli_triplets(root / "triplets.tsv", 64), root / "ds")


def write_config(root, model, dataset, out, per_device):
    config = root / f"{out.name}.json"
    config.write_text(json.dumps({
        "model": {"path": str(model), "dropout": False, "dtype": "float64"},
        "datasets": [{"name": "nli", "path": str(dataset), "loss": {"name": "MultipleNegativesRankingLoss"}}],
        "training": {"per_device_train_batch_size": per_device, "max_steps": STEPS, "learning_rate": 1e-3,
                     "logging_steps": 1, "warmup_ratio": 0.0, "max_grad_norm": 0.0, "seed": 5, "threads": 1},
        "distributed": {"backend": "mpi"},
        "output_dir": str(out)}))
    return config


def run_on_two_hosts(hosts, root, config):
    agent = root / "rsh_agent.sh"  # OpenMPI calls: agent <host> <command...>
    # Each host also gets its own hostname (a UTS namespace): MPI tells nodes apart by it, and names
    # its shared-memory files after it.
    agent.write_text("#!/bin/sh\nhost=$1; shift\ncase $host in\n"
                     f"  {hosts.ips[0]}) ns={hosts.ns[0]} ;;\n  {hosts.ips[1]}) ns={hosts.ns[1]} ;;\n"
                     "  *) echo \"rsh_agent: unknown host $host\" >&2; exit 1 ;;\nesac\n"
                     "exec ip netns exec \"$ns\" unshare --uts /bin/sh -c \"hostname $ns && $*\"\n")
    agent.chmod(0o755)
    hostfile = root / "hostfile"
    hostfile.write_text(f"{hosts.ips[0]} slots=2\n{hosts.ips[1]} slots=2\n")
    command = ["ip", "netns", "exec", hosts.ns[0], "unshare", "--uts", "/bin/sh", "-c",
               f'hostname {hosts.ns[0]} && exec "$@"', "sh", "mpirun", "--allow-run-as-root", "-np", "4",
               "--hostfile", hostfile, "--map-by", "slot",
               "--mca", "plm_rsh_agent", agent, "--mca", "plm_rsh_no_tree_spawn", "1",
               "--mca", "oob_tcp_if_include", hosts.cidr, "--mca", "btl_tcp_if_include", hosts.cidr,
               "--mca", "btl", "self,vader,tcp",
               "-x", "OMPI_MCA_btl_vader_single_copy_mechanism=none", "-x", "PATH",
               negatron_bin(), "--log-level", "debug", "train", "--config", config]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMPI_")}
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


def losses_and_weights(out):
    losses = [r["loss"] for r in map(json.loads, open(out / "metrics.jsonl")) if r["type"] == "train"]
    return losses, load_file(str(out / "final" / "model.safetensors"))


def test_two_hosts_train_like_one_process(hosts, setup):
    root, model, dataset = setup
    out = root / "two_hosts"
    log = run_on_two_hosts(hosts, root, write_config(root, model, dataset, out, GLOBAL_BATCH // 4))
    local_ranks = {int(r): int(l) for r, l in re.findall(r"\[rank (\d)/4\] \[debug\] node-local rank (\d)", log)}
    assert local_ranks == {0: 0, 1: 1, 2: 0, 3: 1}, f"node-local ranks {local_ranks}\n{log[-3000:]}"

    single = root / "one_process"
    run_negatron("train", "--config", write_config(root, model, dataset, single, GLOBAL_BATCH))
    losses_two, weights_two = losses_and_weights(out)
    losses_one, weights_one = losses_and_weights(single)
    assert len(losses_two) == STEPS
    np.testing.assert_allclose(losses_two, losses_one, rtol=TOLERANCE)
    assert weights_two.keys() == weights_one.keys()
    for name in weights_one:
        np.testing.assert_allclose(weights_two[name], weights_one[name], atol=TOLERANCE, err_msg=name)
