package org.ievirsh.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Parsed is the outcome of reading one file: a value, or the problems that
 * kept it from being one. It never holds both.
 */
public final class Parsed<T> {
    private final T value;
    private final List<Problem> problems;

    private Parsed(T value, List<Problem> problems) {
        this.value = value;
        this.problems = List.copyOf(problems);
    }

    public static <T> Parsed<T> ok(T value) {
        return new Parsed<>(Objects.requireNonNull(value), List.of());
    }

    public static <T> Parsed<T> failed(List<Problem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a failed parse needs at least one problem");
        }
        return new Parsed<>(null, problems);
    }

    public static <T> Parsed<T> failed(Problem problem) {
        return failed(List.of(problem));
    }

    public boolean isOk() {
        return value != null;
    }

    public Optional<T> value() {
        return Optional.ofNullable(value);
    }

    /** The value; throws when the parse failed. */
    public T orThrow() {
        if (value == null) {
            throw new IllegalStateException(problems.get(0).toString());
        }
        return value;
    }

    public List<Problem> problems() {
        return problems;
    }

    /** Carries the problems of this failed parse over to another value type. */
    public <U> Parsed<U> asFailed() {
        if (value != null) {
            throw new IllegalStateException("not a failed parse");
        }
        return new Parsed<>(null, problems);
    }
}
