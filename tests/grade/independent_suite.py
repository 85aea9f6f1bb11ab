"""A second labelled suite, labelled independently of the grader's rules (issue 11).

Every label was fixed by reading the (response, reference) pair as a careful human grader
would, before any grader ran on these rows, and each row says why in one line. The rows
come from three places:

- ``harness``: answer styles that published evaluation harnesses and reasoning models
  produce (Minerva's "Final Answer: The final answer is $X$. I hope it is correct.",
  lm-evaluation-harness GSM8K "#### n" / "The answer is n.", Qwen2.5-Math boxed answers,
  several boxes in long reasoning traces), written by hand;
- ``smollm2``: real responses of the embedded SmolLM2-135M-Instruct (``real_responses.jsonl``);
- ``bench``: rows of bench/bench_grade.py's generated set where ``dart grade`` 1.1.0 and
  math-verify disagreed (``bench_disagreements.jsonl``).

Labelling policy (the human judgement, not a grader rule): a response is graded on the
final answer it states: in a box, after ``####``, after an answer phrase ("the answer
is", "Final Answer:"), as the whole response, or as the conclusion sentence that closes
it ("So she spent $1,250 in total."). When it states none, or only candidates, the label
is ``no_answer``; cut off by the length limit, ``truncated``. Text after an end-of-turn
token (``<|im_end|>`` ...) is not part of the answer.

    cd tests/grade && python -c "from independent_suite import rows; print(len(rows()))"
"""

from __future__ import annotations

import json
from pathlib import Path

C, W, N, T = "correct", "wrong", "no_answer", "truncated"
HERE = Path(__file__).resolve().parent
PCT_Q = "What percent of the class are girls?"
FINAL = "\nFinal Answer: The final answer is {}. I hope it is correct."

# (style, response, gold, label, why[, extra fields])
HARNESS: list[tuple] = [
    # Minerva / MATH few-shot style.
    ("minerva", r"We have $3x+5=20$, so $x=5$." + FINAL.format("$5$"), "5", C, "states 5"),
    ("minerva", r"So $p=\frac34$." + FINAL.format(r"$\frac{3}{4}$"), r"\frac34", C, "3/4 both"),
    ("minerva", r"Final Answer: The final answer is $100$. I hope it is correct.", "100", C, "100"),
    ("minerva", r"The final answer is $100$. I hope it is correct.", "100", C, "states 100"),
    ("minerva", r"Final Answer: The final answer is $2\sqrt{5}$.", r"\sqrt{20}", C, "2√5 = √20"),
    ("minerva", FINAL.format(r"\(\frac{1}{2}\)"), "0.5", C, r"\( \) delimiters, 1/2 = 0.5"),
    ("minerva", FINAL.format("$12$") + "<|im_end|>", "12", C, "12, then end of turn"),
    (
        "minerva",
        "2+5=7." + FINAL.format("$7$") + "<|im_start|>user\nWhat is $2+2$?<|im_end|>",
        "7",
        C,
        "7; the next turn is not the answer",
    ),
    ("minerva", FINAL.format("$-3$"), "3", W, "-3 is not 3"),
    ("minerva", FINAL.format("$(2,-1)$"), "(2,-1)", C, "same point"),
    ("minerva", FINAL.format("$(-1,2)$"), "(2,-1)", W, "coordinates swapped"),
    ("minerva", FINAL.format(r"$\{1,2,3\}$"), r"\{3,2,1\}", C, "same set"),
    ("minerva", FINAL.format("$x^2+2x+1$"), "(x+1)^2", C, "expanded square"),
    ("minerva", FINAL.format("$[1,5)$"), "[1,5]", W, "open end differs"),
    ("minerva", FINAL.format(r"$\text{(C)}$"), r"\text{(C)}", C, "option C"),
    ("minerva", FINAL.format(r"$45^\circ$"), "45", C, "45 degrees"),
    ("minerva", "The sum is $15$." + FINAL.format("$15$"), "15", C, "15"),
    ("minerva", "Final Answer: The final answer is $15$", "16", W, "15 is not 16"),
    (
        "minerva",
        FINAL.format(r"$\dfrac{7}{12}$") + "\n\nProblem:\nFind $2+2$.\n\nSolution:",
        r"\frac{7}{12}",
        C,
        "7/12; the model then starts the next few-shot problem",
    ),
    ("minerva", FINAL.format("24"), "24", C, "24 without $"),
    ("minerva", FINAL.format("$3.5$"), r"\frac72", C, "3.5 = 7/2"),
    ("minerva", FINAL.format(r"$\$18.90$"), r"\$18.90", C, "same amount"),
    ("minerva", FINAL.format(r"$\pi$"), r"\pi", C, "pi"),
    ("minerva", FINAL.format(r"$10\pi$"), r"5\pi", W, "double"),
    ("minerva", FINAL.format(r"\(2^{10}\)"), "1024", C, "2^10 = 1024"),
    ("minerva", "I'm not sure." + FINAL.format("$0$"), "0", C, "states 0"),
    ("minerva", FINAL.format(r"$\text{Evelyn}$"), r"\text{Evelyn}", C, "same name"),
    ("minerva", FINAL.format("$y=2x+3$"), "y=2x+3", C, "same line"),
    (
        "minerva",
        FINAL.format(r"$\begin{pmatrix} 1 \\ -2 \end{pmatrix}$"),
        r"\begin{pmatrix}1\\-2\end{pmatrix}",
        C,
        "same vector",
    ),
    ("minerva", FINAL.format(r"$11,\! 111,\! 100$"), r"11,\! 111,\! 100", C, "same number"),
    ("minerva", FINAL.format("$11,\\! 111,\\! 000$"), r"11,\! 111,\! 100", W, "differs by 100"),
    ("minerva", FINAL.format(r"$\frac{\sqrt{3}}{2}$"), r"\frac{\sqrt3}{2}", C, "same"),
    # lm-evaluation-harness GSM8K styles.
    (
        "gsm8k",
        "Natalia sold 48/2 = 24 clips in May. Natalia sold 48+24 = 72 clips altogether in "
        "April and May. The answer is 72.",
        "72",
        C,
        "72",
        {"kind": "gsm8k"},
    ),
    (
        "gsm8k",
        "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = "
        "$<<9*2=18>>18 every day at the farmer's market.\n#### 18",
        "18",
        C,
        "#### 18 with calculator annotations",
        {"kind": "gsm8k"},
    ),
    (
        "gsm8k",
        "Janet sells 16 - 3 - 4 = 9 duck eggs a day.\n#### 20",
        "18",
        W,
        "20 is not 18",
        {"kind": "gsm8k"},
    ),
    (
        "gsm8k",
        "She makes 9 * 2 = 18 dollars. The answer is $18.",
        "18",
        C,
        "money",
        {"kind": "gsm8k"},
    ),
    ("gsm8k", "The answer is $1,250.", "1250", C, "$1,250 = 1250", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is 1,250 dollars.", "1250", C, "1,250 dollars", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is 3,000.", "3000", C, "thousands separator", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is 3.000.", "3000", W, "3.000 is three", {"kind": "gsm8k"}),
    (
        "gsm8k",
        "So the total is 5 + 7 = 12 apples. The answer is 12.",
        "12",
        C,
        "12",
        {"kind": "gsm8k"},
    ),
    ("gsm8k", "The answer is 12 apples.", "13", W, "12 is not 13", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is: 45", "45", C, "45", {"kind": "gsm8k"}),
    ("gsm8k", "He has 10 - 4 = 6 left.\nThe answer is 6", "6", C, "6", {"kind": "gsm8k"}),
    ("gsm8k", "The temperature fell. The answer is -5.", "-5", C, "-5", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is 7.50.", "7.5", C, "7.50 = 7.5", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is $7.50.", "7.5", C, "$7.50 = 7.5", {"kind": "gsm8k"}),
    ("gsm8k", "#### 1,000", "1000", C, "1,000", {"kind": "gsm8k"}),
    ("gsm8k", "#### $1,000.00", "1000", C, "$1,000.00", {"kind": "gsm8k"}),
    ("gsm8k", "She needs 3 more hours.\n#### 3 hours", "3", C, "3 hours", {"kind": "gsm8k"}),
    (
        "gsm8k",
        "All of them are sold. The answer is 100%.",
        "100",
        C,
        "100% for a reference of 100 (a percent)",
        {"kind": "gsm8k", "query": "What percentage of the eggs are sold?"},
    ),
    (
        "gsm8k",
        "The answer is 25%.",
        "25",
        C,
        "25% asked as a percentage",
        {"kind": "gsm8k", "query": "What percentage of the apples are red?"},
    ),
    (
        "gsm8k",
        "The answer is 0.25.",
        "25",
        W,
        "the question asks for a percentage; 0.25 is not 25",
        {"kind": "gsm8k", "query": "What percentage of the apples are red?"},
    ),
    (
        "gsm8k",
        "Each box has 6 eggs, so 4 boxes have 4 * 6 = 24 eggs. The answer is 24 eggs.",
        "24",
        C,
        "24 eggs",
        {"kind": "gsm8k"},
    ),
    ("gsm8k", "The answer is 24 eggs", "42", W, "24 is not 42", {"kind": "gsm8k"}),
    ("gsm8k", "So she spent $1,250 in total.", "1250", C, "closing sentence", {"kind": "gsm8k"}),
    ("gsm8k", "Therefore, John has 15 marbles.", "15", C, "closing sentence", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is 5 + 7 = 12.", "12", C, "states 12 as the result", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is 72.<|im_end|>", "72", C, "end of turn", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is 9.<|eot_id|>", "9", C, "Llama-3 end of turn", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is 9</s>", "9", C, "EOS marker", {"kind": "gsm8k"}),
    ("gsm8k", "#### $1,250", "1250", C, "money", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is $1,205.", "1250", W, "digits swapped", {"kind": "gsm8k"}),
    ("gsm8k", "Thus she earns $12.50 per hour.", "12.5", C, "closing sentence", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is $0.50.", "0.5", C, "fifty cents", {"kind": "gsm8k"}),
    ("gsm8k", "So the total cost is \\$1,250.00.", "1250", C, "escaped $", {"kind": "gsm8k"}),
    ("gsm8k", "So the total cost is $1,250.", "1250", C, "closing sentence", {"kind": "gsm8k"}),
    ("gsm8k", "We get 5 apples, then 7 more.", "12", N, "no answer stated", {"kind": "gsm8k"}),
    ("gsm8k", "The answer is 50%.", "50", C, "50% for 50", {"kind": "gsm8k"}),
    # Qwen2.5-Math boxed style.
    ("qwen", "To solve it we ...\n\nThus, the final answer is:\n\\[\n\\boxed{5}\n\\]", "5", C, "5"),
    ("qwen", r"The final answer is \(\boxed{\frac{3}{8}}\).", "0.375", C, "3/8"),
    ("qwen", r"Therefore, the value of \(x\) is \(\boxed{-2}\).", "-2", C, "-2"),
    ("qwen", r"So the side is \(\boxed{2\sqrt{3}}\).", r"\sqrt{12}", C, "2√3 = √12"),
    (
        "qwen",
        r"\[\boxed{(-\infty, -2) \cup (2, \infty)}\]",
        r"(-\infty,-2)\cup(2,\infty)",
        C,
        "same union",
    ),
    ("qwen", r"the answer is \(\boxed{14{,}916}\)", "14916", C, "14{,}916 = 14916"),
    ("qwen", r"\boxed{14916}", r"14{,}916", C, "reference in MATH thousands style"),
    ("qwen", r"\boxed{11111100}", r"11,\! 111,\! 100", C, "reference with ,\\! groups"),
    ("qwen", r"\boxed{11,\! 111,\! 100}", "11111100", C, "answer with ,\\! groups"),
    ("qwen", r"\boxed{11,\! 111,\! 101}", "11111100", W, "off by one"),
    ("qwen", r"So the answer is \(\boxed{\text{B}}\).", r"\text{(B)}", C, "option B"),
    ("qwen", r"The largest possible value is \(\boxed{34}\).", "34", C, "34"),
    ("qwen", r"\[\boxed{x = 7}\]", "7", C, "x = 7"),
    ("qwen", r"\boxed{25\%}", "25", C, "25% against 25"),
    ("qwen", r"\boxed{25}", r"25\%", C, "25 against 25%"),
    ("qwen", r"\boxed{0.25}", r"25\%", C, "0.25 is 25%"),
    ("qwen", r"\boxed{5 \text{ m}}", r"5\text{ cm}", W, "metres are not centimetres"),
    ("qwen", r"\boxed{5}", r"5\text{ cm}", C, "unit on one side only"),
    ("qwen", r"\boxed{5\text{ cm}}", "5", C, "unit on one side only"),
    ("qwen", r"\boxed{5 \, \text{cm}}", r"5\text{ cm}", C, "same length"),
    ("qwen", r"\boxed{12 \text{ ft}}", r"12\text{ m}", W, "feet are not metres"),
    ("qwen", r"\boxed{3 \text{ hours}}", r"3\text{ minutes}", W, "hours are not minutes"),
    ("qwen", r"\boxed{60^\circ}", "60", C, "60 degrees"),
    ("qwen", r"\boxed{\dfrac{1}{2}}", r"\frac12", C, "1/2"),
    ("qwen", r"\boxed{5\text{ meters}}", r"5\text{ m}", C, "metres spelled out"),
    ("qwen", r"\boxed{5 \text{ km}}", r"5\text{ m}", W, "km is not m"),
    ("qwen", r"\boxed{12\text{ cm}^2}", r"12\text{ cm}^2", C, "same area"),
    ("qwen", r"\boxed{12 \text{ cm}^2}", r"12\text{ m}^2", W, "cm^2 is not m^2"),
    ("qwen", r"\boxed{20\text{ cm}}", "20", C, "unit on one side only"),
    ("qwen", r"\boxed{4 \text{ inches}}", r"4\text{ inches}", C, "same"),
    ("qwen", r"\boxed{4 \text{ feet}}", r"4\text{ inches}", W, "feet are not inches"),
    ("qwen", r"\boxed{1,000,000}", "10^6", C, "a million"),
    ("qwen", r"\boxed{1,000}", r"1,\!000", C, "a thousand"),
    ("qwen", r"\boxed{1,001}", r"1,\!000", W, "off by one"),
    ("qwen", r"\boxed{12,345}", "12345", C, "thousands separator"),
    ("qwen", r"\boxed{1,2}", "12", W, "the pair 1, 2 is not twelve"),
    ("qwen", r"\boxed{0.5, 2}", "2, 0.5", C, "same solutions"),
    # Reasoning traces: several boxes, think blocks.
    (
        "reasoning",
        "<think>\nMaybe \\boxed{3}? No wait, recount: 4.\n</think>\n\nThe answer is \\boxed{4}.",
        "4",
        C,
        "final 4 after the think block",
    ),
    (
        "reasoning",
        "<think>\nMaybe \\boxed{3}? No wait, recount: 4.\n</think>\n\nThe answer is \\boxed{4}.",
        "3",
        W,
        "3 was discarded",
    ),
    (
        "reasoning",
        "Step 1: $x = \\boxed{4}$.\nStep 2: $y = x + 6 = \\boxed{10}$.\n\n**Final Answer**\n"
        "\\boxed{10}",
        "10",
        C,
        "final 10",
    ),
    (
        "reasoning",
        r"The solutions are \boxed{(2, 2)} and \boxed{(6, 2)}.",
        "(2, 2), (6, 2)",
        C,
        "both",
    ),
    ("reasoning", r"The solutions are \boxed{(6, 2)} and \boxed{(2, 2)}.", "(2,2),(6,2)", C, "set"),
    ("reasoning", r"The solutions are \boxed{(2, 2)} and \boxed{(6, 3)}.", "(2,2),(6,2)", W, "6,3"),
    ("reasoning", r"\boxed{1},\boxed{2},\boxed{3}", "1,2,3", C, "all three"),
    ("reasoning", r"\boxed{3}, \boxed{1}, \boxed{2}", "1, 2, 3", C, "all three, any order"),
    ("reasoning", r"\boxed{1},\boxed{2}", "1,2,3", W, "one solution missing"),
    ("reasoning", r"Hence \boxed{k = 45} and \boxed{n = 2}.", "k = 45, n = 2", C, "both values"),
    ("reasoning", r"Hence \boxed{k = 45} and \boxed{n = 3}.", "k = 45, n = 2", W, "n wrong"),
    ("reasoning", r"So $x = \boxed{-1}$ or $x = \boxed{3}$.", "-1, 3", C, "both roots"),
    ("reasoning", r"So $x = \boxed{-1}$ or $x = \boxed{3}$.", "3, -1", C, "both roots, any order"),
    ("reasoning", r"The roots are $\boxed{2}$ and $\boxed{-2}$.", r"\pm 2", C, "±2"),
    (
        "reasoning",
        "First guess: \\boxed{6}. Wait, I made an error; recomputing gives \\boxed{8}.",
        "8",
        C,
        "corrected to 8",
    ),
    (
        "reasoning",
        "First guess: \\boxed{6}. Wait, I made an error; recomputing gives \\boxed{8}.",
        "6",
        W,
        "6 was withdrawn",
    ),
    (
        "reasoning",
        "**Final Answer**\n\\[\n\\boxed{\\dfrac{5}{12}}\n\\]",
        r"\frac{5}{12}",
        C,
        "5/12",
    ),
    ("reasoning", "**Final Answer**\nThe number of ways is \\boxed{120}.", "120", C, "120"),
    (
        "reasoning",
        "<think>\nSo 12? \\boxed{12} hmm, no: one more case.\n</think>\nThe final answer is 13.",
        "13",
        C,
        "13 after the think block",
    ),
    ("reasoning", "<think>\nok so 2+2 = 4, I think \\boxed{4}", "4", C, "boxed 4"),
    (
        "reasoning",
        "Part (a): the first equation gives \\boxed{2}.\n\nPart (b) asks for the other root; "
        "after factoring we get $(x-5)$, so the answer to part (b) is \\boxed{5}.",
        "2, 5",
        C,
        "both parts answered",
    ),
    (
        "reasoning",
        "Check: \\boxed{4} works for both. Thus $x=\\boxed{4}$ and $y=\\boxed{10}$.",
        "4, 10",
        C,
        "x and y",
    ),
    (
        "reasoning",
        "Let me double-check by substituting. Everything is consistent.\n\n\\boxed{7}",
        "7",
        C,
        "7",
    ),
    (
        "reasoning",
        "Let me double-check by substituting. Everything is consistent.\n\n\\boxed{7}",
        "8",
        W,
        "7 is not 8",
    ),
    (
        "reasoning",
        "We want the answer... The candidates are 3 and 5, I need to check which works.",
        "3",
        N,
        "only candidates",
    ),
    # Self-corrections: the last stated answer.
    ("selfcorrect", "The answer is not 5; it is 6.", "6", C, "corrected to 6"),
    ("selfcorrect", "The answer is not 5; it is 6.", "5", W, "5 was rejected"),
    ("selfcorrect", "The answer is 5. Wait, that's wrong. The answer is 6.", "6", C, "last: 6"),
    ("selfcorrect", "The answer is 6, not 5.", "6", C, "6"),
    ("selfcorrect", "The answer is 6, not 5.", "5", W, "5 rejected"),
    ("selfcorrect", "I first thought the answer is 8, but it is actually 9.", "9", C, "9"),
    ("selfcorrect", "The answer is not 5.", "5", N, "only says what it is not"),
    ("selfcorrect", r"The answer is \boxed{5}. Actually, no: \boxed{6}.", "6", C, "last box"),
    ("selfcorrect", "The answer is 7 rather than 8.", "7", C, "7"),
    ("selfcorrect", "The answer is 7 rather than 8.", "8", W, "8 rejected"),
    # Bare final expressions: the whole response is the answer.
    ("bare", "-12", "-12", C, "the response is the answer"),
    ("bare", "3/8", "0.375", C, "3/8"),
    ("bare", r"\frac{3}{8}", "3/8", C, "3/8"),
    ("bare", "0.375", r"\frac38", C, "0.375"),
    ("bare", r"$\frac{3}{8}$", r"\frac{3}{8}", C, "3/8"),
    ("bare", "-12", "12", W, "sign"),
    ("bare", "42\n", "42", C, "42"),
    ("bare", " 7. ", "7", C, "7"),
    ("bare", r"\(2\sqrt{2}\)", r"\sqrt8", C, "2√2 = √8"),
    ("bare", "x = 5", "5", C, "x = 5"),
    ("bare", "Yes", "yes", C, "yes"),
    ("bare", "I don't know", "5", N, "no answer"),
    ("bare", "", "5", N, "empty"),
    ("bare", "(1, 2)", "(1,2)", C, "same pair"),
    ("bare", "12 apples", "12", C, "12"),
    ("bare", "0.376", r"\frac38", W, "not 3/8"),
    # Final sentences.
    ("sentence", "We try all n.\nFinal Answer: The largest $n$ is 34.", "34", C, "34"),
    ("sentence", "We try all n.\nFinal Answer: The largest $n$ is 35.", "34", W, "35"),
    ("sentence", "**Final Answer:** 17", "17", C, "17"),
    ("sentence", r"**Answer:** $\frac{1}{2}$", "0.5", C, "1/2"),
    ("sentence", "Answer: 42", "42", C, "42"),
    ("sentence", "Final answer:\n42", "42", C, "42 on the next line"),
    ("sentence", "Final Answer: $x = 3$", "3", C, "x = 3"),
    ("sentence", r"So the probability is $\frac{1}{6}$.", r"\frac16", C, "closing sentence"),
    ("sentence", "Therefore, the area of the triangle is $24$ square units.", "24", C, "24"),
    ("sentence", r"Thus the sum of the roots is $-\frac{b}{a} = -3$.", "-3", C, "-3"),
    ("sentence", "Therefore, the total is 5 + 7 = 12.", "12", C, "12"),
    (
        "sentence",
        "So, Janet makes 9 * 2 = $18 every day at the farmer's market.",
        "18",
        C,
        "18 dollars",
        {"kind": "gsm8k"},
    ),
    ("sentence", "I need to find x. Let me set up the equation 2x = 10", "5", N, "unfinished"),
    ("sentence", "So the answer must be", "5", N, "no value"),
    ("sentence", "Thus, there are 1,024 ways.", "1024", C, "1,024"),
    ("sentence", "Hence the perimeter is 20 cm.", "20", C, "20 cm"),
    ("sentence", "So the angle is 60°.", "60", C, "60 degrees"),
    ("sentence", r"Therefore, the angle measures $60^\circ$.", r"60^\circ", C, "60 degrees"),
    ("sentence", "Therefore, the answer is 60°.", "60", C, "60 degrees"),
    ("sentence", "Hence the perimeter is 20 cm.", "24", W, "20 is not 24"),
    # A whole MATH/GSM8K solution given as the reference.
    ("solution_ref", r"\boxed{3}", r"We have $x+1=4$, so the answer is $\boxed{3}$.", C, "3"),
    (
        "solution_ref",
        r"\boxed{\{1,2,3\}}",
        r"The set is $\fbox{$\{1,2,3\}$}$.",
        C,
        "same set; reference in \\fbox with $",
    ),
    ("solution_ref", r"\boxed{4}", r"So $x = \boxed{3}$.", W, "4 is not 3"),
    (
        "solution_ref",
        FINAL.format(r"$\frac{1}{2}$"),
        r"Halving gives $\boxed{\frac12}$.",
        C,
        "1/2",
    ),
    ("solution_ref", r"\boxed{10000}", r"In all, $\boxed{10,\!000}$ ways.", C, "10,000"),
    (
        "solution_ref",
        "#### 72",
        "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72"
        " clips altogether in April and May.\n#### 72",
        C,
        "72",
        {"kind": "gsm8k"},
    ),
    ("solution_ref", r"\boxed{1,2,3}", r"The set is $\fbox{$\{1,2,3\}$}$.", C, "same elements"),
    ("solution_ref", r"\boxed{1,2}", r"The set is $\fbox{$\{1,2,3\}$}$.", W, "3 missing"),
    # Chat-template tokens.
    (
        "chat",
        "\\boxed{42}<|im_end|><|im_start|>user\nWhat is \\boxed{7}?",
        "42",
        C,
        "42; the invented next turn is not the answer",
    ),
    ("chat", FINAL.format("$6$") + "<|im_start|>assistant", "6", C, "6"),
    ("chat", "<|im_start|>assistant\nThe answer is 5", "5", C, "leading template token"),
    ("chat", "The answer is 5<|im_end|>\n<|im_start|>user\nThe answer is 6", "5", C, "5"),
    # Truncated by the length limit.
    ("truncated", r"So far \boxed{4}", "4", T, "cut off", {"finish_reason": "length"}),
    ("truncated", "The answer is 5", "5", T, "cut off", {"finish_reason": "length"}),
    ("truncated", FINAL.format("$5$"), "5", C, "finished normally", {"finish_reason": "stop"}),
    # Percentages.
    ("percent", "The answer is 28 pct.", r"28\%", C, "28 pct"),
    ("percent", "The answer is 28 percent.", r"28\%", C, "28 percent"),
    ("percent", r"\boxed{0.28}", r"28\%", C, "0.28 = 28%"),
    ("percent", r"\boxed{0.28}", r"28\%", W, "asked for a percent", {"query": PCT_Q}),
    ("percent", r"\boxed{28\%}", "0.28", C, "28% = 0.28"),
    ("percent", r"\boxed{28\%}", "28", C, "asked for a percent", {"query": PCT_Q}),
    ("percent", r"\boxed{30\%}", r"28\%", W, "30 is not 28"),
    ("percent", r"\boxed{2.8\%}", "28", W, "2.8 is not 28"),
    # More harness styles: lm-evaluation-harness gsm8k-cot exemplars, Minerva with a box.
    (
        "gsm8k",
        "There are 15 trees originally. Then there were 21 trees after some more were planted. "
        "So there must have been 21 - 15 = 6. The answer is 6.",
        "6",
        C,
        "gsm8k-cot exemplar: 6",
        {"kind": "gsm8k"},
    ),
    ("gsm8k", "So the answer is 18.", "18", C, "18", {"kind": "gsm8k"}),
    ("gsm8k", "So the answer is 18.", "81", W, "18 is not 81", {"kind": "gsm8k"}),
    (
        "gsm8k",
        "Leah had 32 chocolates and her sister had 42. So in total they had 32 + 42 = 74. "
        "After eating 35, they had 74 - 35 = 39. The answer is 39.",
        "39",
        C,
        "39",
        {"kind": "gsm8k"},
    ),
    ("minerva", FINAL.format(r"$\boxed{5}$"), "5", C, "5 in a box"),
    ("minerva", FINAL.format(r"$\frac{\sqrt{2}}{2}$"), r"\frac{1}{\sqrt2}", C, "same value"),
    ("minerva", FINAL.format(r"$1.5\times10^3$"), "1500", C, "1500"),
    ("minerva", FINAL.format(r"$x \in [2, 5]$"), "[2,5]", C, "the interval [2, 5]"),
    ("qwen", r"\boxed{\text{yes}}", "yes", C, "yes"),
    ("qwen", r"\boxed{\text{No}}", "yes", W, "no is not yes"),
    ("qwen", r"\boxed{\textbf{(D)}}", r"\text{(D)}", C, "option D"),
    ("qwen", r"\boxed{-\frac{1}{3}}", r"-\frac13", C, "-1/3"),
    ("qwen", r"\boxed{\frac{-1}{3}}", r"\frac13", W, "sign"),
    (
        "reasoning",
        "<think>\nThe sum is 12... let me verify: 5+7=12. Yes.\n</think>\n\n**Final Answer**\n"
        "\\[\n\\boxed{12}\n\\]",
        "12",
        C,
        "12",
    ),
    (
        "reasoning",
        "<think>\nlong thinking that never ends and is cut",
        "12",
        T,
        "cut off",
        {"finish_reason": "length"},
    ),
    (
        "reasoning",
        "Wait, I should double check.\n\nThe answer is \\boxed{9}.\n\nActually, recomputing, the "
        "answer is \\boxed{10}.",
        "10",
        C,
        "corrected to 10",
    ),
    ("sentence", "In total, 15 apples remain.", "15", C, "15"),
    ("sentence", "Altogether, they collected 1,200 cans.", "1200", C, "1,200"),
    ("bare", "B", "B", C, "option B", {"kind": "multiple_choice"}),
    ("bare", "12.5%", "12.5", C, "12.5%"),
    ("percent", "The answer is 12.5%.", r"\frac18", C, "12.5% = 1/8"),
    ("chat", "The answer is \\boxed{3}.<|endoftext|>The answer is \\boxed{4}.", "3", C, "3"),
]


def _read_jsonl(name: str) -> list[dict]:
    path = HERE / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def rows() -> list[dict]:
    """Every labelled row: response, gold, label, why, source, style and optional fields."""
    out = []
    for style, response, gold, label, why, *extra in HARNESS:
        row = {"source": "harness", "style": style, "response": response, "gold": gold}
        row.update(label=label, why=why, **(extra[0] if extra else {}))
        out.append(row)
    for name, source in (
        ("real_responses.jsonl", "smollm2"),
        ("bench_disagreements.jsonl", "bench"),
    ):
        if (HERE / name).exists():
            for row in _read_jsonl(name):
                out.append({"source": source, **row})
    return out
