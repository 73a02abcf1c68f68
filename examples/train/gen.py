#!/usr/bin/env python3
"""Generate data.csv: a small synthetic customer-churn table (seeded, so the
file is the same every time). Columns: numbers, a skewed amount, categories,
a few missing cells, a binary label (churned), a class (segment) and a
value (spend)."""
import math
import random

rng = random.Random(42)
cities = ["Berlin", "Lisbon", "Oslo", "Paris", "Rome", "Vienna"]
plans = ["basic", "plus", "pro"]
print("customer,age,income,city,plan,visits,tenure_months,churned,segment,spend")
for i in range(800):
    age = rng.randint(18, 80)
    income = round(math.exp(rng.gauss(10.3, 0.6)), 2)
    city = rng.choice(cities)
    plan = rng.choices(plans, [5, 3, 2])[0]
    visits = rng.randint(0, 9)
    tenure = rng.randint(1, 72)
    z = (-1.0 + 0.8 * (plan == "basic") - 0.05 * visits - 0.03 * tenure
         + 0.6 * (city in ("Oslo", "Rome")) + 0.01 * (age - 45))
    churned = 1 if rng.random() < 1 / (1 + math.exp(-z * 2)) else 0
    segment = "young" if age < 35 else ("senior" if age > 60 else "adult")
    spend = round(20 + 15 * plans.index(plan) + 2.5 * visits + income / 2000 + rng.gauss(0, 3), 2)
    if rng.random() < 0.03:
        income = ""
    if rng.random() < 0.03:
        city = ""
    print(f"c{i:04d},{age},{income},{city},{plan},{visits},{tenure},{churned},{segment},{spend}")
