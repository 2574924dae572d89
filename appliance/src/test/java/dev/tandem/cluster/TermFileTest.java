package dev.tandem.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TermFileTest {
    @TempDir
    Path dir;

    @Test
    void oneVotePerTermKeptAcrossARestart() {
        TermFile t = new TermFile(dir);
        assertThat(t.get()).isZero();
        assertThat(t.raise(7)).isTrue();
        assertThat(t.votedFor()).as("seen, not voted").isNull();
        assertThat(t.vote(7, "node-b")).as("a term only seen can still be voted in").isTrue();
        assertThat(t.vote(7, "node-c")).as("a second candidate in the same term").isFalse();
        assertThat(t.vote(7, "node-b")).as("the same candidate again").isTrue();
        assertThat(t.vote(6, "node-c")).as("an older term").isFalse();

        TermFile reopened = new TermFile(dir); // as after kill -9: the file was fsynced before the vote was sent
        assertThat(reopened.get()).isEqualTo(7);
        assertThat(reopened.votedFor()).isEqualTo("node-b");
        assertThat(reopened.vote(7, "node-c")).isFalse();
        assertThat(reopened.raise(8)).isTrue();
        assertThat(reopened.votedFor()).isNull();
        assertThat(reopened.vote(8, "node-c")).isTrue();
        assertThat(reopened.raise(8)).as("terms only grow").isFalse();
        assertThat(new TermFile(dir).votedFor()).isEqualTo("node-c");
    }

    @Test
    void aTermFileFromBeforeVotesWereRecordedReads() throws Exception {
        Files.writeString(dir.resolve("term"), "12");
        TermFile t = new TermFile(dir);
        assertThat(t.get()).isEqualTo(12);
        assertThat(t.votedFor()).isNull();
    }

    @Test
    void aDamagedTermFileIsRefusedWithWhatToDo() throws Exception {
        Files.writeString(dir.resolve("term"), "twelve");
        assertThatThrownBy(() -> new TermFile(dir)).hasMessageContaining("it holds this node's term");
    }
}
