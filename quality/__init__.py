"""Quality measurement: newsbeam's own functions scored against public ground truth."""
