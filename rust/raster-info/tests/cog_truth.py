"""The COG verdicts of GDAL's validator and of rio-cogeo, as JSON, for
comparison with Stratus' own (`cog_matrix.rs`).

    cog_truth.py gdal FILE...   (Debian's python3 with python3-gdal: osgeo_utils)
    cog_truth.py rio FILE...    (the project's .venv: rio-cogeo on rasterio's own GDAL)
Prints [{"file", "valid", "errors", "warnings"}, ...].
"""
import json
import sys

which, files = sys.argv[1], sys.argv[2:]
out = []
if which == "gdal":
    from osgeo import gdal
    from osgeo_utils.samples import validate_cloud_optimized_geotiff as v

    gdal.UseExceptions()
    for f in files:
        warnings, errors, _ = v.validate(f, full_check=True)
        out.append({"file": f, "valid": not errors, "errors": errors, "warnings": warnings})
elif which == "rio":
    from rio_cogeo.cogeo import cog_validate

    for f in files:
        valid, errors, warnings = cog_validate(f, quiet=True)
        out.append({"file": f, "valid": valid, "errors": errors, "warnings": warnings})
else:
    sys.exit(f"unknown validator {which!r}: gdal or rio")
print(json.dumps(out))
