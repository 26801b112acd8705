package org.ievirsh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

class RunStrategyEditorTest {

    private static String set(String text, String strategy) {
        return RunStrategyEditor.set("web.yaml", text, strategy).orThrow();
    }

    @Test
    void onlyTheValueOfTheLineChangesAndCommentsStay() {
        String before = "# my web server, do not delete\napiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n"
                + "  image: web.qcow2   # uploaded on Monday\n  runStrategy: Always # keep it up\n  vcpus: 2\n";
        String after = set(before, "Halted");
        assertEquals(before.replace("runStrategy: Always # keep it up", "runStrategy: Halted # keep it up"), after);
        assertEquals(before, set(after, "Always"));
    }

    @Test
    void quotedValuesAreReplacedWhole() {
        String before = "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n  runStrategy: \"Always\"\n  image: a\n";
        assertEquals(before.replace("\"Always\"", "Halted"), set(before, "Halted"));
    }

    @Test
    void aMissingRunStrategyIsAddedUnderSpecWithItsIndentation() {
        String before = "apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n    # the image\n    image: a.qcow2\n";
        assertEquals("apiVersion: ie-virsh/v1\nkind: VirtualMachine\nspec:\n    runStrategy: Halted\n    # the image\n"
                + "    image: a.qcow2\n", set(before, "Halted"));
    }

    @Test
    void aFileThatCannotBeEditedByLineIsRefused() {
        assertFalse(RunStrategyEditor.set("web.yaml", "spec: {image: a}\n", "Halted").isOk());
        assertFalse(RunStrategyEditor.set("web.yaml", "spec: [\n", "Halted").isOk());
        assertFalse(RunStrategyEditor.set("web.yaml", "- a\n", "Halted").isOk());
    }
}
