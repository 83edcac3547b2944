"""What editors write: YAML read with line marks, validated into the frozen Issue model."""
