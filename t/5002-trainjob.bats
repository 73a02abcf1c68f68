#!/usr/bin/env bats
# kf train JOB.yaml: TFJob/PyTorchJob manifests run as local processes.

load test_helper

F=$KF_SRCDIR/t/fixtures/5002

# A job file from restart.yaml with the policy, backoff limit and failure.
flaky() {
	sed -e "s/POLICY/$1/" -e "s/BACKOFF/$2/" -e "s/FAIL/$3/" "$F/restart.yaml" > job.yaml
}

@test "TFJob replicas get TF_CONFIG with the cluster, their task and their env" {
	run_kf -0 train "$F/env-tfjob.yaml"
	assert_line 'worker-0 | hello worker'
	assert_line 'worker-1 | hello worker'
	w0=$(grep '^worker-0 | {' <<<"$output" | cut -d' ' -f3-)
	w1=$(grep '^worker-1 | {' <<<"$output" | cut -d' ' -f3-)
	python3 - "$w0" "$w1" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert a["cluster"] == b["cluster"], (a, b)
assert sorted(a["cluster"]) == ["ps", "worker"], a
assert len(a["cluster"]["worker"]) == 2 and len(a["cluster"]["ps"]) == 1
addrs = a["cluster"]["worker"] + a["cluster"]["ps"]
assert all(x.startswith("127.0.0.1:") for x in addrs) and len(set(addrs)) == 3
assert a["task"] == {"type": "worker", "index": 0} and b["task"] == {"type": "worker", "index": 1}
assert a["environment"] == "cloud"
PY
	# logs are kept per replica in the store
	grep -qx 'hello worker' "$KF_STORE/trainjobs/print-env/worker-1.log"
}

@test "the chief decides success; the evaluator is outside the cluster and stopped" {
	run_kf -0 train "$F/chief.yaml" --log-dir logs
	assert_line --regexp '^chief-0 \| \{"cluster":\{"chief":\["127\.0\.0\.1:[0-9]+"\]\},"task":\{"type":"chief","index":0\},"environment":"cloud"\}$'
	[ -f logs/evaluator-0.log ]
	CHIEF_STATUS=4 run_kf -1 train "$F/chief.yaml"
	assert_output --partial 'TFJob "chief-decides" failed: chief-0 exited with status 4 (restartPolicy Never)'
}

@test "PyTorchJob replicas get MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK" {
	run_kf -0 train "$F/env-pytorchjob.yaml"
	port=$(grep '^master-0 | ' <<<"$output" | cut -d' ' -f4)
	[ -n "$port" ]
	assert_line "master-0 | 127.0.0.1 $port 3 0"
	assert_line "worker-0 | 127.0.0.1 $port 3 1"
	assert_line "worker-1 | 127.0.0.1 $port 3 2"
}

@test "restartPolicy OnFailure restarts a failed replica" {
	flaky OnFailure 3 'exit 3'
	run_kf -0 train job.yaml
	assert_line 'worker-0 | first run'
	assert_line 'worker-0 | second run'
	assert_output --partial 'worker-0: exited with status 3, restarting (OnFailure, restart 1 of backoffLimit 3)'
}

@test "restartPolicy Never fails the job on the first failure" {
	flaky Never 3 'exit 3'
	run_kf -1 train job.yaml
	assert_line 'worker-0 | first run'
	refute_line 'worker-0 | second run'
	assert_output --partial 'kf: error: TFJob "flaky" failed: worker-0 exited with status 3 (restartPolicy Never)'
}

@test "restartPolicy ExitCode restarts only retryable (128-255) exits" {
	flaky ExitCode 3 'exit 3'
	run_kf -1 train job.yaml
	refute_line 'worker-0 | second run'
	rm -f ran
	flaky ExitCode 3 'kill -9 $$'
	run_kf -0 train job.yaml
	assert_output --partial 'worker-0: exited with status 137, restarting (ExitCode'
	assert_line 'worker-0 | second run'
}

@test "backoffLimit bounds the restarts of the job" {
	sed -e 's/POLICY/OnFailure/' -e 's/BACKOFF/1/' -e 's/FAIL/exit 5/' -e 's/if \[ -e ran \]/if false/' \
		"$F/restart.yaml" > job.yaml
	run_kf -1 train job.yaml
	assert_output --partial 'failed: worker-0 exited with status 5 and the job reached backoffLimit 1'
	[ "$(grep -c 'worker-0 | first run' <<<"$output")" -eq 2 ]
}

@test "activeDeadlineSeconds stops and fails the job" {
	run_kf -1 train "$F/deadline.yaml"
	assert_output --partial 'PyTorchJob "slow" failed: activeDeadlineSeconds 1 exceeded'
}

@test "invalid manifests report every error with file:line:col" {
	run_kf -2 train "$F/bad.yaml"
	assert_output --partial 'bad.yaml:4:9: error: metadata.name "Bad_Name" must be a DNS-1035 label'
	assert_output --partial 'bad.yaml:9:5: error: unknown replica type "Wroker" (did you mean "Worker"?)'
	assert_output --partial 'bad.yaml:7:19: error: backoffLimit must be an integer >= 0'
	assert_output --partial 'bad.yaml:13:22: error: restartPolicy must be Always, OnFailure, Never or ExitCode'
	assert_output --partial 'bad.yaml:12:17: error: Chief must have exactly 1 replica'
	assert_output --partial 'no container named "tensorflow"'
}

@test "the training operator's own examples load" {
	cat > tf.yaml <<'YAML'
apiVersion: "kubeflow.org/v1"
kind: "TFJob"
metadata:
  name: "dist-mnist-for-e2e-test"
spec:
  tfReplicaSpecs:
    PS:
      replicas: 2
      restartPolicy: Never
      template:
        spec:
          containers:
            - name: tensorflow
              image: kubeflow/tf-dist-mnist-test:latest
              command: ["true"]
    Worker:
      replicas: 4
      restartPolicy: Never
      template:
        spec:
          containers:
            - name: tensorflow
              image: kubeflow/tf-dist-mnist-test:latest
              command: ["true"]
YAML
	run_kf -0 train tf.yaml
	# the operator's PyTorch MNIST example: it would run python, so only check it
	cat > pt.yaml <<'YAML'
apiVersion: "kubeflow.org/v1"
kind: PyTorchJob
metadata:
  name: pytorch-simple
  namespace: kubeflow
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: OnFailure
      template:
        spec:
          containers:
            - name: pytorch
              image: docker.io/kubeflowkatib/pytorch-mnist:v1beta1-45c5727
              imagePullPolicy: Always
              command:
                - "python3"
                - "/opt/pytorch-mnist/mnist.py"
                - "--epochs=1"
    Worker:
      replicas: 1
      restartPolicy: OnFailure
      template:
        spec:
          containers:
            - name: pytorch
              image: docker.io/kubeflowkatib/pytorch-mnist:v1beta1-45c5727
              imagePullPolicy: Always
              command:
                - "python3"
                - "/opt/pytorch-mnist/mnist.py"
                - "--epochs=1"
YAML
	run_kf -0 train pt.yaml --dry-run
	assert_line '- name: master-0'
	assert_line '- name: worker-0'
	assert_line "    RANK: '1'"
	assert_line "    WORLD_SIZE: '2'"
	assert_line '  - /opt/pytorch-mnist/mnist.py'
}

@test "built-in trainers train data-parallel from TF_CONFIG and match one process" {
	D=$KF_SRCDIR/examples/train/data.csv
	args=(--model mlp --data "$D" --label churned --ignore customer,segment,spend --eval-split mod:5:4 --hidden 16 --epochs 8)
	run_kf -0 train "${args[@]}" --out single
	run_kf -0 train "${args[@]}" --out dist --workers 2 --ps 1
	assert_line --regexp '^worker-0 \| auc='
	[ -f dist/kf-model.json ]
	python3 - single/metrics.json dist/metrics.json <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for k in ("auc", "log_loss", "train_loss"):
    assert abs(a[k] - b[k]) < 1e-6, (k, a[k], b[k])
PY
	# without a parameter server, worker 0 sums the gradients
	run_kf -0 train "${args[@]}" --out dist3 --workers 3
	python3 - single/metrics.json dist3/metrics.json <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert abs(a["log_loss"] - b["log_loss"]) < 1e-6, (a, b)
PY
}

@test "--emit writes the TFJob that runs the same training, valid for the operator" {
	D=$KF_SRCDIR/examples/train/data.csv
	run_kf -0 train --model logistic --data "$D" --label churned --out m --workers 2 --ps 1 --emit --image reg.example/kf:1
	echo "$output" > tfjob.yaml
	assert_line '  name: kf-train'
	assert_line --regexp '^          - name: tensorflow$'
	assert_line --regexp '^            image: reg.example/kf:1$'
	refute_output --partial -- '--emit'
	refute_output --partial -- '--workers'
	run_kf -0 train tfjob.yaml
	assert_line --regexp '^worker-0 \| train_loss='
	[ -f m/kf-model.json ]
	need_validator
	run validate_k8s tfjob.yaml
	assert_success
}
