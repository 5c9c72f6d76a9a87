// Configuration: defaults < YAML file < environment < flags, validated with precise errors.
