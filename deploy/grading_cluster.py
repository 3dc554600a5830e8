"""Start a Dask cluster on Kubernetes for grading, from an instructor's JupyterLab (NOT TESTED here; see README).

    python deploy/grading_cluster.py --workers 20
    python -m grading 01_gradient_descent --scheduler <the address it prints>

Workers run the instructor image (the course environment and bubblewrap), one thread each, and never see the
gradebook: the class command sends each worker one student's files and writes the grades itself. bubblewrap needs
user namespaces inside the worker's container, which the default seccomp profile refuses: the workers' pods run
with seccomp and AppArmor unconfined, and COURSE_GRADING_SANDBOX=require (set in the image) makes a worker refuse to
grade rather than grade unsandboxed.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    from dask_kubernetes.operator import KubeCluster, make_cluster_spec

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--image", default=os.environ.get("COURSE_INSTRUCTOR_IMAGE", "REPLACE-ME/how-networks-learn-instructor:TAG"))
    args = parser.parse_args()
    spec = make_cluster_spec(name="grading", image=args.image, n_workers=args.workers,
                             resources={"requests": {"memory": "4G", "cpu": "1"}, "limits": {"memory": "6G", "cpu": "1"}},
                             env={"COURSE_GRADING_SANDBOX": "require"})
    worker = spec["spec"]["worker"]["spec"]
    worker["containers"][0]["args"] += ["--nthreads", "1"]
    worker["securityContext"] = {"seccompProfile": {"type": "Unconfined"}, "appArmorProfile": {"type": "Unconfined"}}
    cluster = KubeCluster(custom_cluster_spec=spec)
    print(f"scheduler: {cluster.scheduler_address}  (Ctrl+C closes the cluster)", flush=True)
    try:
        while True:
            time.sleep(60)
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
