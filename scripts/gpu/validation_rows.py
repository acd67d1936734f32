"""The row format of ../shared/validation/microbench_results.csv, shared by the scripts that
write tables for `pathfinder validate` (to_csv.py, power_rows.py)."""
import csv

FIELDS = ["id", "hardware", "kind", "size_params", "measured_value", "unit", "source", "notes"]


def write_rows(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
