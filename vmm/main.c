/* main.c - placeholder until the VMM lands. */
int main(void)
{
	return 0;
}
