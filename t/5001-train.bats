#!/usr/bin/env bats
# kf train --model: bundles, metrics, determinism, resume, predict round-trips.

load test_helper

DATA=$KF_SRCDIR/examples/train/data.csv

# jv FILE EXPR: a Python expression over the JSON document d, printed
jv() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); r = eval(sys.argv[2]); print("\n".join(map(str, r)) if isinstance(r, list) else r)' "$@"
}

train_logistic() {
	run_kf -0 train --model logistic --data "$DATA" --label churned --eval-split mod:5:4 \
		--ignore customer,segment,spend --out "$@"
}

@test "logistic writes a bundle and prints name=value metrics" {
	train_logistic m
	assert_line --regexp '^auc=0\.[0-9]+$'
	assert_line --regexp '^accuracy=0\.[0-9]+$'
	assert_line --regexp '^log_loss=[0-9.]+$'
	[ -f m/kf-model.json ] && [ -f m/weights.bin ] && [ -f m/metrics.json ] && [ -f m/kf-features.yaml ]
	run jv m/kf-model.json '[d["kind"], d["task"], d["label"]["column"], d["data"]["sha256"], d["data"]["split"]]'
	assert_output "logistic
binary
churned
$(sha256sum "$DATA" | cut -d' ' -f1)
mod:5:4"
	# the inferred spec: the id column and the ignored ones are not features
	run jv m/kf-model.json '[f["column"] for f in d["features"]["features"] if "column" in f]'
	refute_line customer
	refute_line churned
	assert_line city
	run jv m/metrics.json 'd["auc"] > 0.7'
	assert_output True
}

@test "training is deterministic for a seed, whatever the thread count" {
	train_logistic a --seed 7 --threads 1
	train_logistic b --seed 7 --threads 4
	cmp a/weights.bin b/weights.bin
	train_logistic c --seed 8
	run cmp -s a/weights.bin c/weights.bin
	[ "$status" -eq 1 ]
}

@test "mlp trains with early stopping and is deterministic" {
	run_kf -0 train --model mlp --data "$DATA" --label churned --ignore customer,segment,spend \
		--eval-split mod:5:4 --hidden 16,8 --epochs 40 --patience 2 --out a
	assert_line --regexp '^auc='
	run_kf -0 train --model mlp --data "$DATA" --label churned --ignore customer,segment,spend \
		--eval-split mod:5:4 --hidden 16,8 --epochs 40 --patience 2 --out b --threads 2
	cmp a/weights.bin b/weights.bin
	run jv a/kf-model.json '",".join(str(x) for x in d["model"]["layers"])'
	assert_output --regexp '^[0-9]+,16,8,1$'
}

@test "predict applies the bundle's transform: identical to the in-memory model" {
	train_logistic m --predictions train-preds.csv
	run_kf -0 train predict --model-dir m --data "$DATA"
	echo "$output" > predict.csv
	head -1 predict.csv | grep -qx 'probability,prediction'
	[ "$(wc -l < predict.csv)" -eq 801 ]
	cmp train-preds.csv predict.csv
	# columns are matched by name: reordered and without the label, same numbers
	cut -d, -f7,6,5,4,3,2 "$DATA" > subset.csv
	run_kf -0 train predict --model-dir m --data subset.csv
	[ "$output" = "$(cat predict.csv)" ]
	run_kf -0 train predict --model-dir m --data "$DATA" --format jsonl
	assert_line --index 0 --regexp '^\{"probability":[0-9.e-]+,"prediction":[01]\}$'
}

@test "every model kind round-trips through predict" {
	run_kf -0 train --model softmax --data "$DATA" --label segment --ignore customer,age,churned,spend \
		--eval-fraction 0.2 --out s --predictions s.csv
	assert_line --regexp '^accuracy='
	run_kf -0 train predict --model-dir s --data "$DATA"
	[ "$output" = "$(cat s.csv)" ]
	assert_line --index 0 'adult,senior,young,prediction'
	run_kf -0 train --model linear --data "$DATA" --label spend --ignore customer,churned,segment \
		--eval-split mod:4:0 --out l --predictions l.csv
	assert_line --regexp '^r2=0\.[5-9]'
	run_kf -0 train predict --model-dir l --data "$DATA"
	[ "$output" = "$(cat l.csv)" ]
	run_kf -0 train --model mlp --task regression --data "$DATA" --label spend --hidden 8 \
		--ignore customer,churned,segment --out r --predictions r.csv
	run_kf -0 train predict --model-dir r --data "$DATA"
	[ "$output" = "$(cat r.csv)" ]
}

@test "--resume continues from the last checkpoint and gives the same model" {
	train_logistic full --epochs 6
	train_logistic part --epochs 3
	run python3 -c "import json, sys; b = open(sys.argv[1], 'rb').read(); n = int.from_bytes(b[8:16], 'little'); print(json.loads(b[16:16 + n])['epoch'])" part/checkpoint/checkpoint.bin
	assert_output 3
	train_logistic part --epochs 6 --resume
	cmp full/weights.bin part/weights.bin
	run_kf -2 train --model logistic --data "$DATA" --label churned --out empty --resume
	assert_output --partial 'no checkpoint in "empty"'
}

@test "--label-expr derives the label and keeps its columns out of the features" {
	run_kf -0 train --model logistic --data "$DATA" --label-expr 'spend > 60 && plan != "basic"' \
		--ignore customer --out m
	run jv m/kf-model.json '[f["column"] for f in d["features"]["features"] if "column" in f]'
	refute_line spend
	refute_line plan
	run jv m/kf-model.json 'd["label"]["expr"]'
	assert_output 'spend > 60 && plan != "basic"'
}

@test "a feature spec is fitted and recorded" {
	cat > f.yaml <<'YAML'
apiVersion: kf/v1
kind: Features
features:
  - {column: income, transform: log, missing: median}
  - {column: age, transform: bucketize, buckets: 4}
  - {column: city, transform: onehot, topK: 3}
  - {column: plan, transform: hash, buckets: 8}
  - {cross: [city, plan], buckets: 32}
YAML
	run_kf -0 train --model logistic --data "$DATA" --label churned --features f.yaml --out m
	run jv m/kf-model.json '[d["features"]["dim"], len(d["features"]["features"][1]["fitted"]["boundaries"]), len(d["features"]["features"][2]["fitted"]["vocabulary"])]'
	assert_output "$(printf "%s\n" 49 3 3)"
}

@test "errors name the place and exit 2" {
	printf 'features:\n  - {column: incme, transform: log}\n' > bad.yaml
	run_kf -2 train --model logistic --data "$DATA" --label churned --features bad.yaml --out m
	assert_output --partial 'bad.yaml:2:5: error: feature "incme": no column "incme" in the data (did you mean "income"?)'
	run_kf -2 train --model logistic --data "$DATA" --label churnd --out m
	assert_output --partial '--label: no column "churnd"'
	assert_output --partial 'did you mean "churned"?'
	run_kf -2 train --model logistic --data "$DATA" --label segment --out m
	assert_output --partial 'label "adult" is not a number'
	run_kf -2 train --model logistic --data "$DATA" --label-expr 'spend >' --out m
	assert_output --partial '--label-expr: column 8: unexpected end of expression'
	run_kf -2 train --model forest --data "$DATA" --label churned --out m
	assert_output --partial 'unknown model "forest"'
	run_kf -2 train --model logistic --data "$DATA" --label churned --out m --eval-split 5:4
	assert_output --partial 'is not mod:K:R'
}

@test "--device cuda without CUDA is an environment error" {
	[ -e /dev/nvidia0 ] && skip "a CUDA device is present"
	run_kf -3 train --model logistic --data "$DATA" --label churned --out m --device cuda
	assert_output --partial -- '--device cuda'
}

@test "cuda and cpu train the same model" {
	[ -e /dev/nvidia0 ] || skip "needs:cuda: no CUDA device"
	kf version | grep -q cuda || skip "needs:cuda: kf built without CUDA"
	run_kf -0 train --model mlp --data "$DATA" --label churned --ignore customer --hidden 8 --epochs 3 --out c --device cuda
	cuda_auc=$(jv c/metrics.json 'd["auc"]')
	run_kf -0 train --model mlp --data "$DATA" --label churned --ignore customer --hidden 8 --epochs 3 --out p
	cpu_auc=$(jv p/metrics.json 'd["auc"]')
	awk -v a="$cuda_auc" -v b="$cpu_auc" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-6) }'
}

@test "streaming epochs give the same model as the in-memory path" {
	train_logistic mem --epochs 3
	KF_TRAIN_CACHE_MB=0 train_logistic stream --epochs 3
	run jv mem/metrics.json 'd["auc"]'
	mem_auc=$output
	run jv stream/metrics.json 'd["auc"]'
	awk -v a="$mem_auc" -v b="$output" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 0.02) }'
}

@test "training is recorded in the store: data in, transform fitted; then data and transform in, model and metrics out" {
	train_logistic m
	# the recorded model is the bundle as written: lineage finds it by content
	run_kf -0 lineage show m -o json
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["type"] == "Model", d
assert [p["type"] for p in d["producers"]] == ["kf.Train"], d["producers"]'
	run jv m/kf-model.json '"lineage" in d'
	assert_output "False"
	run sqlite3 "$KF_STORE/kf.db" "select ev.type, p.step_key, t.name from Event ev join EventPath p on p.event_id = ev.id
		join Artifact a on a.id = ev.artifact_id join Type t on t.id = a.type_id order by ev.type, p.step_key"
	assert_output "3|data|Dataset
3|data|Dataset
3|transform|Transform
4|metrics|Metrics
4|model|Model
4|transform|Transform"
	# as TFX: a transform execution, then the training reading its output
	run sqlite3 "$KF_STORE/kf.db" "select t.name, e.name from Execution e join Type t on t.id = e.type_id order by e.id"
	assert_output "kf.Transform|logistic
kf.Train|logistic"
}

@test "mf learns user-item data and recommends unseen items" {
	python3 - <<'PY'
import random
r = random.Random(3)
with open("trx.csv", "w") as f:
    f.write("user,items\n")
    for u in range(60):
        group = u % 3   # three tastes: items a*, b*, c*
        for _ in range(4):
            picks = [f"{'abc'[group]}{r.randint(0, 5)}" for _ in range(3)]
            f.write(f"u{u},{'|'.join(picks)}\n")
with open("users.csv", "w") as f:
    f.write("user\nu0\nu1\nnobody\n")
PY
	run_kf -0 train --model mf --data trx.csv --user user --item items --item-sep '|' --factors 4 --iters 8 \
		--eval-split mod:4:3 --out m
	assert_line --regexp '^recall_at_10=0\.[0-9]+$'
	assert_line 'users=60'
	run_kf -0 train predict --model-dir m --data users.csv --top-k 3
	assert_line --index 0 'user,rank,item,score'
	# u0 likes a*, u1 likes b*: the best unseen item comes from their group
	assert_line --regexp '^u0,1,a[0-5],0\.[0-9]+'
	assert_line --regexp '^u1,1,b[0-5],0\.[0-9]+'
	# an unknown user gets the most popular items
	[ "$(grep -c '^nobody,' <<<"$output")" -eq 3 ]
	run_kf -0 train --model mf --data trx.csv --user user --item items --item-sep '|' --factors 4 --iters 8 \
		--eval-split mod:4:3 --out m2
	cmp m/weights.bin m2/weights.bin
	printf 'user,item,stars\nu1,a,5\nu1,b,1\nu2,a,4\nu2,c,2\nu3,b,2\nu3,c,5\nu4,a,5\n' > ratings.csv
	run_kf -0 train --model mf --data ratings.csv --user user --item item --rating stars --factors 2 --out e
	run jv e/kf-model.json 'd["model"]["feedback"]'
	assert_output explicit
}

@test "xgboost trains through libxgboost and round-trips through predict" {
	kf version | grep -q xgboost || skip "kf built without libxgboost"
	run_kf -0 train --model xgboost --data "$DATA" --label churned --ignore customer,segment,spend \
		--eval-split mod:5:4 --rounds 30 --out x --predictions x.csv
	assert_line --regexp '^auc=0\.[6-9]'
	[ -f x/model.json ]
	run_kf -0 train predict --model-dir x --data "$DATA"
	[ "$output" = "$(cat x.csv)" ]
}

@test "xgboost is absent from --help when not built" {
	kf version | grep -q xgboost && skip "kf built with libxgboost"
	run_kf -0 train -h
	refute_output --partial xgboost
	refute_output --partial -- --rounds
	run_kf -2 train --model xgboost --data "$DATA" --label churned --out x
}
