package org.ievirsh.api.yaml;

/** Mark is a position in a text file: line and column, both counting from 1. */
public record Mark(int line, int column) {
    /** Mark of problems that concern the whole file. */
    public static final Mark NONE = new Mark(0, 0);
}
