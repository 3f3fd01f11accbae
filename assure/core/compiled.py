"""Reads and inserts that run on every request or login, compiled to SQL once per database
instead of on every call.

Django builds and compiles a queryset each time it runs. For the signed-in member's session,
read with its account and member joined (about fifty columns), compiling took about four times
as long as running the query (0.57 ms in all against 0.01 ms for the query itself, in process on
SQLite; docs/performance.md). `CompiledRead` lets Django compile the queryset once per database
with stand-in values, keeps its SQL, and on each call only executes it and builds the instances
the way Django's own iterator does (the database's converters, `Model.from_db`, the related
instances of `select_related`). The result is the same objects the queryset would give; for a
`values_list()` queryset, `tuples()` gives its rows, converted the same way.

Only a queryset whose stand-in values each appear exactly once among the compiled parameters
can be kept; anything else is read through the ORM as usual, so a surprise costs speed, never a
wrong answer. `CompiledInsert` does the same for `Model.objects.create`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from django.db import connections, models, router
from django.db.models import signals, sql
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import (  # type: ignore[attr-defined]
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.query_utils import DeferredAttribute

ModelT = TypeVar("ModelT", bound=models.Model)


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]
    # Where each argument goes among the parameters.
    slots: tuple[int, ...]
    compiler: Any
    converters: dict[int, Any]
    model: type[models.Model] | None  # None for a values_list() queryset
    init_list: list[str]
    start: int
    end: int
    # Whether instances may be made without Model.__init__ (see _plain_instances).
    plain: bool = False
    # Django's populators of the select_related() instances: they hold no state between rows, so
    # they are made once with the plan (Django makes them on every read).
    related: tuple[Any, ...] = ()
    # Whether the related instances may be made without Model.__init__ too, and their models.
    related_plain: bool = False
    related_models: tuple[type[models.Model], ...] = ()


# The keys these reads take are 64-bit integer columns.
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


def _adapt(connection: Any, value: Any) -> Any:
    """A value as the database receives it among the parameters, as Django's date and time
    fields prepare it (SQLite takes them as text, for instance)."""
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


class CompiledRead(Generic[ModelT]):
    """`build(*args)` read through SQL compiled once: its first instance, or all of them.

    `build` must return a queryset (filtered by its arguments, sliced to what is wanted); the
    stand-ins must be values no real call uses and that the database accepts for those columns.
    """

    def __init__(
        self, model: type[ModelT], build: Callable[..., Any], stand_ins: Sequence[Any]
    ) -> None:
        self._model = model
        self._build = build
        self._stand_ins = tuple(stand_ins)
        self._plans: dict[str, _Plan | None] = {}
        self._lock = threading.Lock()

    def first(self, *args: Any) -> ModelT | None:
        rows = self._rows(args, one=True)
        if rows is None:
            return next(iter(self._build(*args)), None)
        return rows[0] if rows else None

    def all(self, *args: Any) -> list[ModelT]:
        rows = self._rows(args, one=False)
        if rows is None:
            return list(self._build(*args))
        return rows

    def tuples(self, *args: Any) -> list[tuple[Any, ...]]:
        """For a `values_list()` queryset: its rows, converted as Django's iterator does."""
        fetched = self._fetch(args, one=False)
        if fetched is None:
            return [tuple(row) for row in self._build(*args)]
        plan, _alias, rows = fetched
        if plan.model is not None:
            raise TypeError("tuples() reads a values_list() queryset; use all() for instances")
        if plan.converters:
            rows = list(plan.compiler.apply_converters(rows, plan.converters))
        return [tuple(row) for row in rows]

    def _rows(self, args: tuple[Any, ...], *, one: bool) -> list[ModelT] | None:
        """The instances, or None when this queryset cannot be kept compiled."""
        fetched = self._fetch(args, one=one)
        if fetched is None:
            return None
        plan, alias, rows = fetched
        if plan.model is None:
            raise TypeError("all() and first() build instances; read a values_list() by tuples()")
        # Asked once per read, not per row: a receiver connected later hears the next read.
        plain = plan.plain and not _init_listened(plan.model)
        related_plain = plan.related_plain and not any(map(_init_listened, plan.related_models))
        return [
            self._instance(plan, alias, row, plain=plain, related_plain=related_plain)
            for row in rows
        ]

    def _fetch(self, args: tuple[Any, ...], *, one: bool) -> tuple[_Plan, str, list[Any]] | None:
        """The plan, the database read and the raw rows, or None when this queryset cannot be
        kept compiled."""
        alias = router.db_for_read(self._model)
        if alias not in self._plans:
            with self._lock:
                self._plans[alias] = self._plan(alias)
        plan = self._plans[alias]
        if plan is None:
            return None
        if any(type(value) is int and not _BIGINT_MIN <= value <= _BIGINT_MAX for value in args):
            # As Django answers a lookup out of an integer column's range: nothing found (the
            # database would refuse the number).
            return plan, alias, []
        connection = connections[alias]
        params = list(plan.params)
        for slot, value in zip(plan.slots, args, strict=True):
            params[slot] = _adapt(connection, value)
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchmany(1) if one else cursor.fetchall()
        return plan, alias, rows

    def _plan(self, alias: str) -> _Plan | None:
        queryset = self._build(*self._stand_ins)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = tuple(params)
        slots = []
        for stand_in in self._stand_ins:
            written = _adapt(connections[alias], stand_in)
            found = [i for i, value in enumerate(params) if value == written]
            if len(found) != 1:
                return None
            slots.append(found[0])
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        if queryset._iterable_class is ValuesListIterable:  # plain columns, no instance to build
            query = queryset.query
            # Columns exactly as asked: nothing for Django's iterator to reorder.
            if (
                query.extra_select
                or query.annotation_select
                or tuple(query.values_select) != tuple(queryset._fields or ())
            ):
                return None
            model, init_list, start, end = None, [], 0, len(fields)
        elif (
            queryset._iterable_class is not ModelIterable
            or compiler.annotation_col_map
            or queryset._known_related_objects
        ):
            return None
        else:
            klass_info = compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            model = klass_info["model"]
            init_list = [column[0].target.attname for column in compiler.select[start:end]]
        plain = model is not None and _plain_instances(model, init_list)
        related: list[Any] = []
        if model is not None:
            related = get_related_populators(compiler.klass_info, compiler.select, alias)
        related_models = _related_models(related)
        return _Plan(
            sql=sql,
            params=params,
            slots=tuple(slots),
            compiler=compiler,
            converters=compiler.get_converters(fields),
            model=model,
            init_list=init_list,
            start=start,
            end=end,
            plain=plain,
            related=tuple(related),
            related_plain=all(_plain_populator(populator) for populator in related),
            related_models=related_models,
        )

    def _instance(
        self, plan: _Plan, alias: str, row: Sequence[Any], *, plain: bool, related_plain: bool
    ) -> ModelT:
        if plan.converters:
            row = next(iter(plan.compiler.apply_converters([row], plan.converters)))
        assert plan.model is not None  # noqa: S101 - checked by _rows
        if plain:
            obj = _plain_instance(plan.model, alias, plan.init_list, row[plan.start : plan.end])
        else:
            obj = plan.model.from_db(alias, plan.init_list, row[plan.start : plan.end])
        for populator in plan.related:
            if related_plain:
                _populate_plain(populator, row, obj)
            else:
                populator.populate(row, obj)
        return obj  # type: ignore[return-value]


def _plain_instance(
    model: type[models.Model], alias: str, init_list: list[str], values: Sequence[Any]
) -> models.Model:
    """What Model.from_db and Model.__init__ leave for a row of every column, without the
    generic work of __init__ (checked equal by tests/core/test_compiled.py)."""
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding, state.db = False, alias
    obj.__dict__.update(zip(init_list, values, strict=True))
    return obj


def _populate_plain(populator: Any, row: Sequence[Any], from_obj: models.Model) -> None:
    """Django's RelatedPopulator.populate, with the instance made by _plain_instance."""
    values = row[populator.cols_start : populator.cols_end]
    if values[populator.pk_idx] is None:  # no related row (a nullable key)
        obj = None
    else:
        obj = _plain_instance(populator.model_cls, populator.db, populator.init_list, values)
        for child in populator.related_populators:
            _populate_plain(child, row, obj)
    populator.local_setter(from_obj, obj)
    if obj is not None:
        populator.remote_setter(obj, from_obj)


def _plain_populator(populator: Any) -> bool:
    """Whether a select_related() instance, and those under it, can be made plainly: columns
    in the model's order (not a parent's reordered) and the conditions of _plain_instances."""
    return (
        populator.reorder_for_init is None
        and _plain_instances(populator.model_cls, populator.init_list)
        and all(_plain_populator(child) for child in populator.related_populators)
    )


def _related_models(populators: Sequence[Any]) -> tuple[type[models.Model], ...]:
    found: list[type[models.Model]] = []
    for populator in populators:
        found.append(populator.model_cls)
        found.extend(_related_models(populator.related_populators))
    return tuple(found)


# Descriptors through which Model.__init__ only stores the value in the instance's __dict__ (on a
# new instance, with nothing cached yet). A field whose descriptor does more keeps Django's path.
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)


def _plain_instances(model: type[models.Model], init_list: list[str]) -> bool:
    """Whether a row of `init_list` can become an instance by filling its __dict__: every
    concrete field read, in the model's order, each stored as it is, and neither Model.__init__
    nor from_db changed by the model."""
    meta = model._meta
    return (
        init_list == [field.attname for field in meta.concrete_fields]
        and model.__init__ is models.Model.__init__
        and model.from_db.__func__ is models.Model.from_db.__func__  # type: ignore[attr-defined]
        and all(
            type(inspect.getattr_static(model, name, None)) in _PLAIN_DESCRIPTORS
            for name in init_list
        )
    )


def _init_listened(model: type[models.Model]) -> bool:
    return signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)


def compiled_per_size(
    model: type[ModelT], build: Callable[..., Any], stand_ins: Sequence[Any]
) -> Callable[[int], CompiledRead[ModelT]]:
    """For a read whose slice size is written in its SQL (`build(*args, size)`): one
    `CompiledRead` per size, made on first use. Callers keep the sizes to a bounded few."""

    @cache
    def per_size(size: int) -> CompiledRead[ModelT]:
        return CompiledRead(model, lambda *args: build(*args, size), stand_ins)

    return per_size


def _listened(model: type[models.Model]) -> bool:
    # Checked on every call: a receiver connected later still hears every save.
    return signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)


@dataclass(frozen=True)
class _InsertPlan:
    sql: str
    compiler: Any
    fields: list[Any]


class CompiledInsert(Generic[ModelT]):
    """`model.objects.create(**values)` with its INSERT compiled once per database.

    For the rows every login writes (its session, its refresh token): Django compiles the INSERT
    on each save. The values are prepared exactly as Django prepares them (each field's pre-save
    hook, such as auto_now_add, then its conversion for the database); the new key is read back
    from RETURNING. Kept only for a model whose key is the one value the database returns and
    that no pre_save or post_save receiver listens to; otherwise `create` is Django's own.
    """

    def __init__(self, model: type[ModelT]) -> None:
        self._model = model
        self._plans: dict[str, _InsertPlan | None] = {}
        self._lock = threading.Lock()

    def create(self, **values: Any) -> ModelT:
        obj = self._model(**values)
        self.insert(obj)
        return obj

    def insert(self, obj: ModelT, *, using: str | None = None) -> None:
        """Inserts `obj` (a new instance of the model) and sets its key, as save() would."""
        alias = using or router.db_for_write(self._model, instance=obj)
        if alias not in self._plans:
            with self._lock:
                self._plans[alias] = self._plan(alias, obj)
        plan = self._plans[alias]
        if plan is None or _listened(self._model):
            obj.save(force_insert=True, using=alias)
            return
        obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
        params = [
            plan.compiler.prepare_value(field, plan.compiler.pre_save_val(field, obj))
            for field in plan.fields
        ]
        with connections[alias].cursor() as cursor:
            cursor.execute(plan.sql, params)
            (key,) = cursor.fetchone()
        obj.pk = key
        obj._state.adding = False
        obj._state.db = alias

    def _plan(self, alias: str, sample: ModelT) -> _InsertPlan | None:
        meta = self._model._meta
        connection = connections[alias]
        returning = meta.db_returning_fields
        if (
            returning != [meta.pk]
            or meta.auto_field is not meta.pk
            or not connection.features.can_return_columns_from_insert
        ):
            return None
        fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.pk]
        query = sql.InsertQuery(self._model)
        query.insert_values(fields, [sample])
        compiler = query.get_compiler(using=alias)
        compiler.returning_fields = returning
        statements = compiler.as_sql()
        if len(statements) != 1:
            return None
        return _InsertPlan(sql=statements[0][0], compiler=compiler, fields=fields)
