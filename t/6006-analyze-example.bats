#!/usr/bin/env bats
# examples/analyze: the commands of its README do what the README says.

load test_helper

EX=$KF_SRCDIR/examples/analyze

@test "example: stats, slices and the HTML page" {
	run_kf -0 analyze stats "$EX/trips.csv"
	assert_line --regexp '^payment_type +STRING +40 +0 '
	run_kf -0 analyze stats --slice payment_type "$EX/trips.csv"
	assert_line --regexp '^payment_type=Cash \([0-9]+ examples\)$'
	run_kf -0 analyze stats -o html "$EX/trips.csv"
	assert_output --partial '<svg'
}

@test "example: the shipped schema is the inferred one plus the environments" {
	kf analyze schema -o pbtxt "$EX/trips.csv" >inferred.pbtxt
	grep -v -e '^#' -e 'environment' "$EX/schema.pbtxt" >curated.pbtxt
	diff inferred.pbtxt curated.pbtxt
}

@test "example: validate is clean on training data, finds the serving anomalies" {
	run_kf -0 analyze validate --schema "$EX/schema.pbtxt" "$EX/trips.csv"
	assert_output 'no anomalies'
	run_kf -1 analyze validate --schema "$EX/schema.pbtxt" --environment SERVING "$EX/serving.csv"
	assert_line --regexp '^payment_type +ENUM_TYPE_UNEXPECTED_STRING_VALUES +Examples contain values missing from the schema: Mobile \(~10%\)\.$'
	assert_line --regexp '^fare +FLOAT_TYPE_HAS_NAN +Float feature has NaN values\.$'
	assert_output --partial 'kf: error: 2 anomalies found'
	run_kf -1 analyze validate --schema "$EX/schema.pbtxt" "$EX/serving.csv"
	assert_line --regexp '^tips +SCHEMA_MISSING_COLUMN '
}

@test "example: drift above the threshold" {
	run_kf -1 analyze drift --threshold payment_type=0.1 "$EX/trips.csv" "$EX/serving.csv"
	assert_line --regexp '^payment_type +L_INFINITY +0.175[0-9]* +0.1 +true$'
}
