package org.ievirsh.api.yaml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.junit.jupiter.api.Test;

class SafeYamlTest {

    private static Parsed<YamlDocument> parse(String text) {
        return SafeYaml.parse("t.yaml", text.getBytes(StandardCharsets.UTF_8));
    }

    private static Problem onlyProblem(String text) {
        Parsed<YamlDocument> parsed = parse(text);
        assertFalse(parsed.isOk(), "expected a problem for: " + text);
        assertEquals(1, parsed.problems().size(), parsed.problems().toString());
        return parsed.problems().get(0);
    }

    @Test
    void recordsWhereEveryFieldWasWritten() {
        YamlDocument doc = parse("a: 1\nspec:\n  memory: 2GiB\n  list:\n    - x\n    - y\n").orThrow();
        assertEquals(new Mark(3, 3), doc.locate("/spec/memory").key());
        assertEquals(new Mark(3, 11), doc.locate("/spec/memory").value());
        assertEquals("spec.memory", doc.locate("/spec/memory").path());
        assertEquals("spec.list[1]", doc.locate("/spec/list/1").path());
        assertEquals(new Mark(6, 7), doc.locate("/spec/list/1").value());
    }

    @Test
    void smallPositionsAreOneMarkForAllFilesAndFarOnesStillRight() {
        assertSame(Mark.of(3, 11), Mark.of(3, 11));
        assertEquals(new Mark(3, 11), Mark.of(3, 11));
        assertEquals(new Mark(5000, 2), Mark.of(5000, 2));
        assertEquals(new Mark(2, 700), Mark.of(2, 700));
        YamlDocument one = parse("spec:\n  memory: 2GiB\n").orThrow();
        YamlDocument two = parse("spec:\n  memory: 4GiB\n").orThrow();
        assertSame(one.locate("/spec/memory").value(), two.locate("/spec/memory").value());
    }

    @Test
    void aBillionLaughsIsAProblemNotAnOutOfMemory() {
        StringBuilder bomb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        char previous = 'a';
        for (char c = 'b'; c <= 'j'; c++) {
            bomb.append(c).append(": &").append(c).append(" [");
            for (int i = 0; i < 9; i++) {
                bomb.append(i == 0 ? "" : ",").append('*').append(previous);
            }
            bomb.append("]\n");
            previous = c;
        }
        Problem problem = onlyProblem(bomb.toString());
        assertTrue(problem.message().contains("alias") || problem.message().contains("too large"), problem.toString());
    }

    @Test
    void aRecursiveAliasIsBounded() {
        Problem problem = onlyProblem("a: &a [*a, *a]\n");
        assertTrue(problem.toString().startsWith("t.yaml:"), problem.toString());
    }

    @Test
    void duplicateKeysAreAProblemAtTheSecondKey() {
        Problem problem = onlyProblem("spec:\n  image: a.qcow2\n  image: b.qcow2\n");
        assertEquals(3, problem.line());
        assertEquals(3, problem.column());
        assertEquals("spec.image", problem.path());
        assertTrue(problem.message().contains("line 2"), problem.message());
    }

    @Test
    void customTagsAreRefused() {
        for (String hostile : new String[] {"a: !!javax.script.ScriptEngineManager [x]\n",
                "a: !!python/object/apply:os.system [\"id\"]\n", "a: !local 5\n", "a: !!binary aGVsbG8=\n"}) {
            Problem problem = onlyProblem(hostile);
            assertTrue(problem.message().contains("not supported") || problem.message().contains("not allowed"),
                    problem.toString());
            assertEquals(1, problem.line(), problem.toString());
        }
    }

    @Test
    void mergeKeysAreRefused() {
        Problem problem = onlyProblem("base: &b {x: 1}\nother:\n  <<: *b\n");
        assertTrue(problem.message().contains("merge keys"), problem.message());
    }

    @Test
    void octalLookingNumbersAreRefusedNotReinterpreted() {
        Problem problem = onlyProblem("vcpus: 010\n");
        assertEquals(1, problem.line());
        assertEquals(8, problem.column());
        assertTrue(problem.message().contains("plain decimal"), problem.message());
    }

    @Test
    void yesAndNoStayText() {
        YamlDocument doc = parse("a: no\nb: true\nc: 3\n").orThrow();
        assertTrue(doc.root().path("a").isTextual());
        assertTrue(doc.root().path("b").isBoolean());
        assertTrue(doc.root().path("c").isIntegralNumber());
    }

    @Test
    void syntaxErrorsCarryLineAndColumn() {
        Problem problem = onlyProblem("spec:\n  image: a\n   bad: [\n");
        assertTrue(problem.line() >= 3, problem.toString());
        assertTrue(problem.message().startsWith("YAML syntax"), problem.toString());
    }

    @Test
    void oversizedFilesAreRefusedBeforeParsing() {
        byte[] big = new byte[10 * 1024 * 1024];
        Parsed<YamlDocument> parsed = SafeYaml.parse("big.yaml", big);
        assertFalse(parsed.isOk());
        assertTrue(parsed.problems().get(0).message().contains("10485760 bytes"));
    }

    @Test
    void textThatIsNotUtf8IsRefused() {
        Parsed<YamlDocument> parsed = SafeYaml.parse("t.yaml", new byte[] {'a', ':', ' ', (byte) 0xff, '\n'});
        assertFalse(parsed.isOk());
        assertTrue(parsed.problems().get(0).message().contains("UTF-8"));
    }

    @Test
    void emptyAndMultiDocumentFilesAreProblems() {
        assertTrue(onlyProblem("").message().contains("empty"));
        assertFalse(parse("a: 1\n---\nb: 2\n").isOk());
    }

    @Test
    void quoteShowsControlCharactersAndCutsLongText() {
        assertEquals("\"a\\x0ab\"", SafeYaml.quote("a\nb"));
        assertTrue(SafeYaml.quote("x".repeat(100)).endsWith("...\""));
    }
}
