package org.ievirsh.api.yaml;

/** Mark is a position in a text file: line and column, both counting from 1. */
public record Mark(int line, int column) {
    /** Mark of problems that concern the whole file. */
    public static final Mark NONE = new Mark(0, 0);

    private static final int SHARED = 128;
    private static final Mark[] SHARED_MARKS = new Mark[SHARED * SHARED];

    /**
     * The mark at {@code line} and {@code column}; the same object for the
     * small positions of every file (a VM file's kept positions are among
     * them), so that ten thousand students' files do not hold a mark each.
     */
    public static Mark of(int line, int column) {
        if (line < 0 || line >= SHARED || column < 0 || column >= SHARED) {
            return new Mark(line, column);
        }
        int slot = line * SHARED + column;
        Mark mark = SHARED_MARKS[slot];
        if (mark == null) {
            // A race makes two equal marks, both correct: records are immutable.
            mark = new Mark(line, column);
            SHARED_MARKS[slot] = mark;
        }
        return mark;
    }
}
