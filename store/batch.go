package store

import "fmt"

// checkJobs rejects jobs that could not be ordered or claimed.
func checkJobs(jobs []NewJob) error {
	for i, j := range jobs {
		switch {
		case j.Channel == "":
			return fmt.Errorf("job %d: empty Channel", i)
		case j.Kind == "":
			return fmt.Errorf("job %d: empty Kind", i)
		case j.Lane == "":
			return fmt.Errorf("job %d: empty Lane", i)
		}
	}
	return nil
}

// checkBatch rejects a batch whose jobs could not be ordered or claimed, or
// whose receipts name no lane.
func checkBatch(b Batch) error {
	if err := checkJobs(b.Jobs); err != nil {
		return err
	}
	for i, r := range b.Receipts {
		if r.Channel == "" || r.Lane == "" {
			return fmt.Errorf("receipts %d: empty Channel or Lane", i)
		}
	}
	return nil
}

// payloadOf never returns nil: the payload columns are NOT NULL.
func payloadOf(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return p
}
