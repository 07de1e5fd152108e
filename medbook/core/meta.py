"""A model's own fields, typed: what `Options.get_field` answers as `Field | ForeignObjectRel`."""

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model


def model_field(model: type[Model] | Model, name: str) -> Field:
    """The model's field `name` (a column, a foreign key or a many-to-many), never a reverse relation."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise FieldDoesNotExist(f"{model._meta.label}.{name} is a reverse relation, not a field of the model")
    return field
