"""ORM queries compiled once per process and PREPAREd once per connection.

What stories/story_page.py does for the story page, for any page's query:
the queryset is built once with stand-in values for its parameters,
compiled, and each stand-in replaced with $1, $2 ...; PostgreSQL then
neither parses nor plans it again per request, and Django does not compile
it again. Rows come back as plain tuples. Other databases run the queryset
built with the real values.
"""

import hashlib
import re
import weakref

from django.db import DatabaseError, connection

# SQLSTATEs after which the statement is prepared again, outside a transaction.
_NOT_PREPARED = "26000"  # lost: DEALLOCATE, a pooler's session reset
_ALREADY_PREPARED = "42P05"  # by another process on a pooler's session
_STALE_PLAN = "0A000"  # "cached plan must not change result type": a migration


_instances = weakref.WeakSet()


def forget_all():
    """Compile every statement again and treat every connection as new
    (after DEALLOCATE ALL in a test, or a test that changes a queryset)."""
    for query in _instances:
        query._statement = None
        query._prepared_on.clear()


class PreparedQuery:
    """build(*values) returns a values_list() queryset; stand_ins are values
    of the parameters' types that appear nowhere else in its SQL (as
    literals: text is quoted, integers such as a slice's bounds are not).

    PostgreSQL plans a prepared statement afresh for its values until a
    generic plan looks no worse. Where the values' row counts differ widely
    (a topic with 14,000 stories, one with 3) it never stops, and planning
    cost more than running. generic_plan=True runs the statement under
    plan_cache_mode = force_generic_plan, set and reset around the EXECUTE
    in the same round trip; as one implicit transaction, an error rolls
    back the setting with the statement. Only for statements whose generic
    plan was measured to be as good: one that does not know its page's
    offset, say, may sort the whole listing.

    sql(*values), when given, returns the SQL and parameters PostgreSQL runs
    instead of build()'s, for a statement the ORM cannot say (a join to a
    derived table); build() still serves other databases."""

    def __init__(self, name, build, stand_ins, types, *, generic_plan=False, sql=None):
        self.name = name
        self.build = build
        self.sql = sql
        self.stand_ins = stand_ins
        self.types = types
        self.generic_plan = generic_plan
        self._statement = None
        self._prepared_on = weakref.WeakSet()
        _instances.add(self)

    def rows(self, *values) -> list[tuple]:
        if connection.vendor != "postgresql":
            return list(self.build(*values))
        with connection.cursor() as cursor:
            return self._execute(cursor, values)

    def _prepared(self):
        if self._statement is None:
            if self.sql is not None:
                sql, params = self.sql(*self.stand_ins)
            else:
                sql, params = self.build(*self.stand_ins).query.sql_with_params()
            sql = connection.ops.compose_sql(sql, params)
            for number, value in enumerate(self.stand_ins, start=1):
                literal = connection.ops.compose_sql("%s", [value])
                pattern = re.escape(literal)
                if isinstance(value, int):
                    pattern = rf"\b{pattern}\b"
                sql, found = re.subn(pattern, f"${number}", sql)
                if not found:
                    raise RuntimeError(f"{literal} is not in {sql}")
            # The name changes with the SQL, so a session shared through a
            # pooler never runs another version's statement under it.
            digest = hashlib.sha256(sql.encode()).hexdigest()[:16]
            name = f"newsroom_{self.name}_{digest}"
            self._statement = (
                name,
                f"PREPARE {name}{_arguments(self.types)} AS {sql}",
            )
        return self._statement

    def _execute(self, cursor, values, *, retry=True):
        """EXECUTE the statement, preparing it first on a new connection,
        and again, once, where the session lost it or holds a stale plan
        (as story_page._execute_prepared does)."""
        name, prepare = self._prepared()
        driver_connection = connection.connection
        try:
            if driver_connection not in self._prepared_on:
                cursor.execute(prepare)
                self._prepared_on.add(driver_connection)
            execute = f"EXECUTE {name}{_arguments(['%s'] * len(values))}"
            if not self.generic_plan:
                cursor.execute(execute, list(values))
                return cursor.fetchall()
            cursor.execute(
                f"SET plan_cache_mode = force_generic_plan; {execute}; "
                "RESET plan_cache_mode",
                list(values),
            )
            cursor.nextset()
            return cursor.fetchall()
        except DatabaseError as error:
            state = getattr(error.__cause__, "sqlstate", None)
            if state not in (_NOT_PREPARED, _ALREADY_PREPARED, _STALE_PLAN):
                raise
            self._prepared_on.discard(driver_connection)
            if not retry or connection.in_atomic_block:
                raise
        if state != _NOT_PREPARED:
            cursor.execute(f"DEALLOCATE {name}")
        return self._execute(cursor, values, retry=False)


def _arguments(items):
    # PREPARE and EXECUTE take no parentheses for no parameters.
    return f"({', '.join(items)})" if items else ""
